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

TEST_CASE("uuid: derived ids match RFC 4122 version 5 in warden's namespace") {
    // Expected values from Python's uuid.uuid5(UUID("6f1d3a52-8b4e-4c21-9a07-5e3b11c482d9"), name).
    CHECK(uuid::derive("$$heatmap:01900a3c-8f1e-7a2b-9c3d-4e5f60718293") == "ae90de78-e408-5520-add9-4f9f00fccdb9");
    CHECK(uuid::derive("") == "65dc339b-2e49-59e3-afb2-a4df13704fbe");
    CHECK(uuid::derive(std::string(200, 'x')) == "05960b38-3ee0-5d06-8277-cb7467178055");
}

TEST_CASE("uuid: only ASCII hex digits count, whatever the byte") {
    std::string text = "01900a3c-8f1e-7a2b-9c3d-4e5f60718293";
    for (const char bad : {'g', 'G', '/', ':', '@', '`', '\xe9', '\0', ' '}) {
        text[0] = bad;
        CHECK_FALSE(uuid::is_valid(text));
    }
}
