// loadgen: a seeded generator of realistic capture messages and the teams they belong to, for
// the demo, benchmarks and integration tests.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace warden::loadgen {

// A token padded to the length of real ones (prefix + 39 digits).
std::string make_token(const char* prefix, int team);

// The teams file (JSON array) of teams 1..count. Every team has a public, secret and backup secret
// token; every 10th opts out of heatmaps, every 7th anonymizes IPs.
std::string teams_json(int count);

// One capture message as the HTTP tier writes it.
struct GeneratedMessage {
    std::string key;
    std::string value;
    std::vector<std::pair<std::string, std::string>> headers;
};

// Messages of a fixed mix: 70 % public token (1 in 70 of them unknown to every team), 20 % secret,
// 5 % backup secret, 3 % forged `$verified` on a public token, 2 % malformed (bad uuid or
// truncated JSON); events are pageviews, autocapture, identify, exceptions, heatmaps and custom
// events. The same seed gives the same stream; message n has a uuid unique to n.
class EventGenerator {
public:
    EventGenerator(uint64_t seed, int teams) : rng_(seed), teams_(static_cast<uint64_t>(teams)) {}

    GeneratedMessage next(uint64_t n);

private:
    uint64_t pick(uint64_t n) { return rng_() % n; }  // plain modulo keeps corpora identical across libraries

    std::mt19937_64 rng_;
    uint64_t teams_;
};

}  // namespace warden::loadgen
