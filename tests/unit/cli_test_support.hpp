// Scratch files and environments for the command-line tests.
#pragma once

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

namespace warden::test {

// A file in the temporary directory holding `text`, removed afterwards.
struct ScratchFile {
    std::filesystem::path path;
    explicit ScratchFile(const std::string& text, const std::string& suffix = ".toml") {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() /
               ("warden_cli_" + std::to_string(::getpid()) + "_" + std::to_string(counter++) + suffix);
        std::ofstream(path, std::ios::binary) << text;
    }
    ~ScratchFile() { std::filesystem::remove(path); }
    ScratchFile(const ScratchFile&) = delete;
    ScratchFile& operator=(const ScratchFile&) = delete;
};

// A getenv over a fixed map, so that tests do not depend on the process environment.
struct FakeEnvironment {
    std::map<std::string, std::string> values;
    const char* operator()(const char* name) const {
        auto it = values.find(name);
        return it == values.end() ? nullptr : it->second.c_str();
    }
};

// A credential-like value that must never appear in any message.
constexpr const char* secret = "hunter2-Sup3r";

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace warden::test
