// The teams file: what `--teams` refuses, and how it says so.
#include <warden/teams.hpp>

#include <doctest/doctest.h>

#include "test_teams.hpp"

#include <filesystem>

using warden::FileTeamStore;

TEST_CASE("file store: a directory given as the teams file is named as one") {
    const std::string dir = std::filesystem::temp_directory_path().string();
    CHECK_THROWS_WITH_AS(FileTeamStore::load(dir),
                         doctest::Contains(("teams file " + dir + ": is a directory").c_str()), std::runtime_error);
}

TEST_CASE("file store: a key given twice in a team object is refused, naming the file, the team and the key") {
    CHECK_THROWS_WITH_AS(FileTeamStore::from_json(R"([{"id":1,"api_token":"phc_a"},
                                                      {"id":2,"api_token":"phc_b","secret_api_token":"phs_one",
                                                       "secret_api_token":null}])",
                                                  "teams.json"),
                         doctest::Contains("teams file teams.json: team #1 has the key \"secret_api_token\" twice"),
                         std::runtime_error);
    // Keys warden does not read are refused twice too: a file with them is not what it seems.
    CHECK_THROWS_WITH_AS(FileTeamStore::from_json(R"([{"id":1,"api_token":"phc_a","note":"x","note":"y"}])", "t.json"),
                         doctest::Contains("team #0 has the key \"note\" twice"), std::runtime_error);
    CHECK(FileTeamStore::from_json(R"([{"id":1,"api_token":"phc_a","secret_api_token":"phs_x"}])", "t.json")
              ->team_count() == 1);
}

TEST_CASE("file store: loads the fixture shape and rejects bad files with a clear message") {
    auto store = FileTeamStore::from_json(test::teams_json, "inline");
    CHECK(store->team_count() == 3);
    std::vector<std::string> tokens = {"phs_backup_acme"};
    auto r = store->fetch_by_tokens(tokens);
    REQUIRE(r.teams.size() == 1);
    CHECK(r.teams[0].id == 2);
    CHECK(r.teams[0].heatmaps_opt_in == true);
    CHECK_THROWS_WITH_AS(FileTeamStore::from_json("{", "t.json"), doctest::Contains("t.json"), std::runtime_error);
    CHECK_THROWS_AS(FileTeamStore::from_json("{}", "t"), std::runtime_error);
    CHECK_THROWS_AS(FileTeamStore::from_json(R"([{"id":"x","api_token":"a"}])", "t"), std::runtime_error);
    CHECK_THROWS_AS(FileTeamStore::from_json(R"([{"id":1}])", "t"), std::runtime_error);
    CHECK_THROWS_AS(FileTeamStore::load("/nonexistent/teams.json"), std::runtime_error);
    // Two rows with one id would make "the team" of a token depend on which row was read.
    CHECK_THROWS_WITH_AS(FileTeamStore::from_json(R"([{"id":7,"api_token":"phc_a"},{"id":8,"api_token":"phc_b"},
                                                      {"id":7,"api_token":"phc_c"}])",
                                                  "teams.json"),
                         "teams file teams.json: team #0 and team #2 have the same id 7 (each id must appear once)",
                         std::runtime_error);
}
