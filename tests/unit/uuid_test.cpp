#include <doctest/doctest.h>

#include "uuid.hpp"

using namespace warden;

TEST_CASE("uuid: format check") {
    CHECK(uuid::is_valid("01900a3c-8f1e-7a2b-9c3d-4e5f60718293"));
    CHECK(uuid::is_valid("01900A3C-8F1E-7A2B-9C3D-4E5F60718293"));
    CHECK_FALSE(uuid::is_valid(""));
    CHECK_FALSE(uuid::is_valid("01900a3c8f1e7a2b9c3d4e5f60718293"));
    CHECK_FALSE(uuid::is_valid("01900a3c-8f1e-7a2b-9c3d-4e5f6071829g"));
    CHECK_FALSE(uuid::is_valid("01900a3c-8f1e-7a2b-9c3d-4e5f607182930"));
}

TEST_CASE("uuid: derived ids are deterministic, distinct and version 5") {
    std::string a = uuid::derive("$$heatmap:01900a3c-8f1e-7a2b-9c3d-4e5f60718293");
    CHECK(a == uuid::derive("$$heatmap:01900a3c-8f1e-7a2b-9c3d-4e5f60718293"));
    CHECK(a != uuid::derive("$$heatmap:01900a3c-8f1e-7a2b-9c3d-4e5f60718294"));
    CHECK(uuid::is_valid(a));
    CHECK(a[14] == '5');
}
