// The teams the unit tests and the fuzz target run against.
#pragma once

namespace test {

// Acme: secret and backup, heatmaps on. Beta: no secrets, anonymised IPs, no heatmap preference, and
// two project secret API keys: phs_key_beta_scoped (with the ingestion scope), phs_key_beta_unscoped
// (without). NoHeatmaps: a secret, heatmaps off.
inline constexpr const char* teams_json = R"([
 {"id":2,"project_id":20,"name":"Acme","api_token":"phc_public_acme","secret_api_token":"phs_secret_acme",
  "secret_api_token_backup":"phs_backup_acme","anonymize_ips":false,"heatmaps_opt_in":true},
 {"id":3,"project_id":30,"name":"Beta","api_token":"phc_public_beta","secret_api_token":null,
  "secret_api_token_backup":null,"anonymize_ips":true,"heatmaps_opt_in":null,
  "project_secret_api_keys":[
   {"secure_value":"sha256$90993de5a90ae13e4e7445f82ae88e09d8ccfb190dd6f28da02772a5c45b5def","scopes":["event:write"]},
   {"secure_value":"sha256$d55a5b3f5c1055ffc816e14a86186e36310b23f11045be1da5e17d0673c6d822","scopes":["feature_flag:read"]}]},
 {"id":4,"project_id":40,"name":"NoHeatmaps","api_token":"phc_public_noheat","secret_api_token":"phs_secret_noheat",
  "anonymize_ips":false,"heatmaps_opt_in":false}
])";

}  // namespace test
