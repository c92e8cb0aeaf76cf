// JSON log lines: redaction of secret and personal keys, and repeat limiting.
#include <warden/log.hpp>

#include <doctest/doctest.h>

#include <string>
#include <thread>
#include <vector>

using namespace warden;

namespace {

std::vector<std::string> captured;
void capture(const std::string& line) { captured.push_back(line); }

struct CaptureLog {
    CaptureLog() {
        captured.clear();
        log::set_sink(capture);
        log::set_min_level(log::Level::debug);
    }
    ~CaptureLog() {
        log::set_sink(nullptr);
        log::set_min_level(log::Level::info);
        log::set_repeat_interval(std::chrono::milliseconds(1000));
    }
};

}  // namespace

TEST_CASE("log: every secret or personal key is redacted, in the message, field names and values") {
    CaptureLog guard;
    log::debug("token phs_SuperSecret123 seen", {{"url", "https://x/?k=phs_abc-DEF_9&y=1"},
                                                 {"phx_PersonalKey", "value phx_Personal"},
                                                 {"public", "phc_PublicIsFine"}});
    REQUIRE(captured.size() == 1);
    const std::string& line = captured[0];
    CHECK(line.find("SuperSecret123") == std::string::npos);
    CHECK(line.find("abc-DEF_9") == std::string::npos);
    CHECK(line.find("PersonalKey") == std::string::npos);
    CHECK(line.find("\"value phx_[redacted]\"") != std::string::npos);
    CHECK(line.find("phs_[redacted] seen") != std::string::npos);
    CHECK(line.find("&y=1") != std::string::npos);              // the text after the key survives
    CHECK(line.find("phc_PublicIsFine") != std::string::npos);  // public tokens are not secrets
    CHECK(line.find("\"level\":\"debug\"") != std::string::npos);
    CHECK(line.back() == '\n');
}

TEST_CASE("log: the output is one JSON object with escaped text") {
    const std::string line = log::format(log::Level::warn, "quote \" backslash \\ newline \n", {{"k", "\x01"}});
    CHECK(line.find(R"("msg":"quote \" backslash \\ newline \u000a")") != std::string::npos);
    CHECK(line.find(R"("k":"\u0001")") != std::string::npos);
    CHECK(line.find('\n') == line.size() - 1);
    // A bare prefix is not a key.
    CHECK(log::format(log::Level::info, "phs_ alone", {}).find("phs_ alone") != std::string::npos);
}

TEST_CASE("log: a repeated warning is written once per interval and then says how many were held back") {
    CaptureLog guard;
    log::set_repeat_interval(std::chrono::milliseconds(60'000));
    for (int i = 0; i < 100; ++i) log::warn("broker down", {{"attempt", std::to_string(i)}});
    log::warn("another problem");
    for (int i = 0; i < 5; ++i) log::info("info lines are never held back");
    CHECK(captured.size() == 1 + 1 + 5);
    log::set_repeat_interval(std::chrono::milliseconds(0));
    log::warn("broker down");
    REQUIRE(captured.size() == 8);
    // The interval changed, so the state restarted: no count yet.
    log::warn("broker down");
    CHECK(captured.size() == 9);

    log::set_repeat_interval(std::chrono::milliseconds(60'000));
    log::error("disk full");
    log::error("disk full");
    log::error("disk full");
    log::set_min_level(log::Level::error);
    log::warn("below the level");
    CHECK(captured.size() == 10);
}

TEST_CASE("log: held-back repeats are counted in the next line written") {
    CaptureLog guard;
    log::set_repeat_interval(std::chrono::milliseconds(20));
    log::warn("flapping");
    log::warn("flapping");
    log::warn("flapping");
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    log::warn("flapping");
    REQUIRE(captured.size() == 2);
    CHECK(captured[1].find("\"suppressed_repeats\":2") != std::string::npos);
}

TEST_CASE("log: registered credentials are redacted in every line and in error texts, longest first") {
    CaptureLog guard;
    log::add_sensitive_value("hunter2");
    log::add_sensitive_value("hunter2%00x");
    log::warn("connect failed: invalid percent-encoded token: \"hunter2%00x\"",
              {{"dsn", "postgresql://u:hunter2@db/x"}});
    REQUIRE(captured.size() == 1);
    CHECK(captured[0].find("hunter2") == std::string::npos);
    CHECK(captured[0].find("token: \\\"[redacted]\\\"") != std::string::npos);  // not "[redacted]%00x"
    CHECK(captured[0].find("u:[redacted]@db") != std::string::npos);
    CHECK(log::redact("sasl.password=hunter2 key phs_abc") == "sasl.password=[redacted] key phs_[redacted]");
    log::clear_sensitive_values();
    CHECK(log::redact("hunter2") == "hunter2");
}

TEST_CASE("log: a line with a hundred thousand keys is redacted in one pass") {
    std::string text;
    while (text.size() < 2'000'000) text += "phs_0123456789abcdef ";
    const auto started = std::chrono::steady_clock::now();
    const std::string redacted = log::redact(text);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    CHECK(seconds < 2.0);  // replacing in place, one key at a time, took minutes at this size
    CHECK(redacted.find("0123456789abcdef") == std::string::npos);
    CHECK(redacted.starts_with("phs_[redacted] phs_[redacted] "));
}

TEST_CASE("log: a thread's field is on every line that thread writes, and on no other thread's") {
    CaptureLog guard;
    std::thread member([] {
        const log::ThreadField field("member", "2");
        log::info("partitions assigned", {{"partitions", "0,3"}});
        {
            const log::ThreadField inner("member", "phs_NotAMemberName");  // redacted like any field
            log::info("inner");
        }
        log::info("outer again");
    });
    member.join();
    log::info("main thread");
    REQUIRE(captured.size() == 4);
    CHECK(captured[0].find(R"("partitions":"0,3","member":"2"})") != std::string::npos);
    CHECK(captured[1].find("NotAMemberName") == std::string::npos);
    CHECK(captured[1].find(R"("member":)") != std::string::npos);
    CHECK(captured[2].find(R"("member":"2")") != std::string::npos);
    CHECK(captured[3].find("member") == std::string::npos);
}
