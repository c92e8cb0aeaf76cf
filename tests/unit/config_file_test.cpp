// The TOML config file: values as written, errors with file, line and setting, never a value.
#include "cli_test_support.hpp"
#include "config_file.hpp"
#include "usage.hpp"

#include <doctest/doctest.h>

#include <filesystem>

namespace {

using warden::cli::ConfigSetting;
using warden::cli::read_config_file;
using warden::cli::UsageError;
using warden::test::contains;
using warden::test::ScratchFile;
using warden::test::secret;

// A command with a text option, a number, a switch and a repeatable option.
struct Command {
    CLI::App app{"test", "run"};
    std::string brokers, from;
    int64_t batch_size = 0;
    double max_rate = 0;
    bool dry_run = false;
    std::vector<std::string> properties;
    Command() {
        app.add_option("--config");
        app.add_option("--brokers", brokers);
        app.add_option("--from", from);
        app.add_option("--batch-size", batch_size);
        app.add_option("--max-rate", max_rate);
        app.add_flag("--dry-run", dry_run);
        app.add_option("--kafka-property", properties);
    }
};

std::vector<ConfigSetting> read(const std::string& text) {
    Command command;
    ScratchFile file(text);
    return read_config_file(command.app, file.path.string());
}

// The error for `text`, which must be refused.
std::string refusal(const std::string& text, const std::string& suffix = ".toml") {
    Command command;
    ScratchFile file(text, suffix);
    try {
        read_config_file(command.app, file.path.string());
    } catch (const UsageError& e) {
        CHECK(contains(e.what(), file.path.string()));  // every error names the file
        CHECK_FALSE(contains(e.what(), secret));        // and never a value
        return e.what();
    }
    FAIL("accepted: " << text);
    return {};
}

}  // namespace

TEST_CASE("config file: values arrive exactly as TOML defines them, in file order, with their lines") {
    const auto settings = read(
        "brokers = \"kafka-1:9092,kafka-2:9092\"  # a comment after a value\n"
        "kafka-property = [\n"
        "  \"sasl.password=p#ss=w\\\"rd'%00\",\n"
        "  'ssl.key.password=C:\\keys\\a',\n"
        "  \"\"\"sasl.oauthbearer.config=line one\nline two\"\"\",\n"
        "]\n"
        "batch-size = 500\n"
        "max-rate = 1000.5\n"
        "dry-run = true\n"
        "from = 2024-06-10T06:00:00Z\n");
    REQUIRE(settings.size() == 8);
    CHECK(settings[0].name == "brokers");
    CHECK(settings[0].value == "kafka-1:9092,kafka-2:9092");  // no quotes kept, no comment
    CHECK(settings[0].line == 1);
    CHECK(settings[1].value == "sasl.password=p#ss=w\"rd'%00");  // '#' inside a string is text
    CHECK(settings[1].line == 3);
    CHECK(settings[2].value == "ssl.key.password=C:\\keys\\a");  // literal strings keep backslashes
    CHECK(settings[3].value == "sasl.oauthbearer.config=line one\nline two");
    CHECK(settings[4].value == "500");
    CHECK(settings[5].value == "1000.5");
    CHECK(settings[6].value == "true");
    CHECK(settings[7].value == "2024-06-10T06:00:00Z");
}

TEST_CASE("config file: an empty file or one of comments sets nothing") {
    CHECK(read("").empty());
    CHECK(read("# nothing here\n\n   \n").empty());
}

TEST_CASE("config file: the old traps are errors now, with file, line and setting") {
    // An unquoted value (the old format) is not TOML.
    std::string message = refusal("brokers = kafka-1:9092\n");
    CHECK(contains(message, ":1: setting 'brokers'"));
    CHECK(contains(message, "double quotes"));

    // A duplicate key used to take the last value silently.
    message = refusal("brokers = \"a:1\"\n\nbrokers = \"b:1\"\n");
    CHECK(contains(message, ":3: setting 'brokers'"));
    CHECK(contains(message, "given twice"));

    // A password with '#' left unquoted would have been cut at the '#'.
    message = refusal(std::string("kafka-property = sasl.password=") + secret + "#x\n");
    CHECK(contains(message, ":1: setting 'kafka-property'"));
}

TEST_CASE("config file: unknown keys name the closest setting, wrong case included") {
    std::string message = refusal("brokerz = \"a:1\"\n");
    CHECK(contains(message, ":1:"));
    CHECK(contains(message, "unknown setting 'brokerz'"));
    CHECK(contains(message, "did you mean brokers?"));

    message = refusal("\n\nBatch-Size = 5\n");
    CHECK(contains(message, ":3:"));
    CHECK(contains(message, "did you mean batch-size?"));

    message = refusal("batch_size = 5\n");
    CHECK(contains(message, "did you mean batch-size?"));

    // Dotted keys make a table: the message says where librdkafka properties go.
    message = refusal(std::string("sasl.password = \"") + secret + "\"\n");
    CHECK(contains(message, "kafka-property = ["));

    message = refusal("help = true\n");
    CHECK(contains(message, "unknown setting 'help'"));
    message = refusal("config = \"other.toml\"\n");
    CHECK(contains(message, "cannot name another"));
}

TEST_CASE("config file: a value of the wrong shape is refused without quoting it") {
    const std::string quoted_secret = std::string("\"") + secret + "\"";
    CHECK(contains(refusal("brokers = [" + quoted_secret + "]\n"), "takes one value, not a list"));
    CHECK(contains(refusal("[brokers]\nx = " + quoted_secret + "\n"), "not a table"));
    // One spelling for properties: the flag's list, not a table of them.
    std::string message = refusal("[kafka-property]\n\"sasl.password\" = " + quoted_secret + "\n");
    CHECK(contains(message, ":1: setting 'kafka-property'"));
    CHECK(contains(message, "kafka-property = [\""));
    message = refusal("kafka-property = [\"a=1\"]\n[kafka-property]\n\"sasl.password\" = " + quoted_secret + "\n");
    CHECK(contains(message, ":2: setting 'kafka-property'"));
    CHECK(contains(refusal("brokers = true\n"), "not true or false"));
    CHECK(contains(refusal("dry-run = " + quoted_secret + "\n"), "is a switch"));
    CHECK(contains(refusal("dry-run = 1\n"), "is a switch"));
    CHECK(contains(refusal("kafka-property = [[" + quoted_secret + "]]\n"), "list of texts"));
    CHECK(contains(refusal("from = 2024-06-10T06:00:00\n"), "needs a zone"));
    CHECK(contains(refusal("from = 2024-06-10\n"), "not enough"));
    CHECK(contains(refusal("batch-size = 99999999999999999999999\n"), "too large"));
}

TEST_CASE("config file: TOML syntax errors say what to do and never quote the value") {
    const std::string s = secret;
    CHECK(contains(refusal("brokers = \"" + s + "\n"), "line break"));              // unterminated, ends at the line
    CHECK(contains(refusal("brokers = \"" + s), "ends inside"));                    // end of file
    CHECK(contains(refusal("brokers = \"" + s + "\\q\"\n"), "unknown \\ escape"));  // bad escape
    CHECK(contains(refusal("brokers = \"" + s + std::string(1, '\0') + "\"\n"), "control character"));
    CHECK(contains(refusal("brokers = '" + s + "\n"), ":1:"));
    CHECK(contains(refusal("brokers = \"\"\"" + s + "\n"), "ends inside"));
    CHECK(contains(refusal(s + "\n"), ":1:"));
    CHECK(contains(refusal("brokers = 1e999" + s + "\n"), ":1:"));
    // A continuation line whose text looks like a key is not named as a setting.
    const std::string message = refusal("kafka-property = [\n\"a=1\",\n" + s + " = x\n]\n");
    CHECK_FALSE(contains(message, "setting '" + s));
}

TEST_CASE("config file: a file that is not a config file is refused plainly") {
    CHECK(contains(refusal(std::string("\xff\xfe\x00\x01", 4) + secret), "not UTF-8"));
    CHECK(contains(refusal(std::string(warden::cli::max_config_file_bytes + 1, '#')), "larger than 1 MiB"));

    Command command;
    const auto directory = std::filesystem::temp_directory_path();
    try {
        read_config_file(command.app, directory.string());
        FAIL("a directory was accepted");
    } catch (const UsageError& e) {
        CHECK(contains(e.what(), "is a directory"));
    }
    try {
        read_config_file(command.app, "/nonexistent/warden.toml");
        FAIL("a missing file was accepted");
    } catch (const UsageError& e) {
        CHECK(contains(e.what(), "/nonexistent/warden.toml"));
        CHECK(contains(e.what(), "No such file"));
    }
}
