// Default RapidCheck parameters for ReefDB's property suites: a fixed seed
// (DESIGN.md §6: every run is reproducible) and a case count, each applied
// only if RC_PARAMS does not already set it, so
//   RC_PARAMS="max_success=5000 seed=42" build/bin/raft_properties_test
// still runs a longer or different search.
#pragma once

#include <cstdlib>
#include <string>

namespace reef::raft::testing {

// Call before the first property runs (RapidCheck reads RC_PARAMS once, on
// first use). Safe to call more than once.
inline void set_rapidcheck_defaults(int max_success, unsigned long long seed) {
  const char* current = std::getenv("RC_PARAMS");
  std::string params = current == nullptr ? "" : current;
  if (params.find("max_success") == std::string::npos) params += " max_success=" + std::to_string(max_success);
  if (params.find("seed") == std::string::npos) params += " seed=" + std::to_string(seed);
  setenv("RC_PARAMS", params.c_str(), /*overwrite=*/1);
}

}  // namespace reef::raft::testing
