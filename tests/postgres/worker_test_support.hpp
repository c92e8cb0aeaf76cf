// Helpers of the worker tests against PostgreSQL: arrange rows, produce events, wait with a bound.
#pragma once

#include <warden/kafka_handles.hpp>

#include "pg_test_env.hpp"

#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <thread>

namespace pgtest {

// One statement as the superuser, committed on its own.
inline void exec_sql(const std::string& sql) {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(env("WARDEN_TEST_PG").c_str()), PQfinish);
    REQUIRE(PQstatus(conn.get()) == CONNECTION_OK);
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), PQclear);
    REQUIRE(PQresultStatus(r.get()) == PGRES_COMMAND_OK);
}

// Produces events first..first+count-1 to events_plugin_ingestion, event `i` sent with token_of(i).
inline void produce_events(const std::string& brokers, int first, int count,
                           const std::function<std::string(int)>& token_of) {
    warden::kafka::ClientPtr producer =
        warden::kafka::make_client(RD_KAFKA_PRODUCER, warden::kafka::make_conf({{"bootstrap.servers", brokers}}));
    for (int i = first; i < first + count; ++i) {
        char uuid[40];
        std::snprintf(uuid, sizeof uuid, "01900a3c-8f1e-7a2b-9c3d-%012d", i);
        const std::string value = std::string(R"({"uuid":")") + uuid + R"(","distinct_id":"u)" + std::to_string(i) +
                                  R"(","event":"$pageview","data":"{}","token":")" + token_of(i) + R"("})";
        REQUIRE(rd_kafka_producev(producer.get(), RD_KAFKA_V_TOPIC("events_plugin_ingestion"),
                                  RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                                  RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                  RD_KAFKA_V_END) == RD_KAFKA_RESP_ERR_NO_ERROR);
    }
    REQUIRE(rd_kafka_flush(producer.get(), 10'000) == RD_KAFKA_RESP_ERR_NO_ERROR);
}

// Whether `done` held within `limit`, checked every 20 ms.
inline bool wait_for(const std::function<bool()>& done, std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < deadline) {
        if (done()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return done();
}

}  // namespace pgtest
