// The environment source: REEFDB_<KEY> per setting (see
// server_config_settings.h for the naming rule). A REEFDB_ variable that
// names no setting is an error, not ignored: it is almost always a typo or
// a setting that was renamed, and ignoring it would leave the default.
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_sources.h"

extern char** environ;  // POSIX: the process environment

namespace reef::prod {
namespace {

std::vector<std::string> known_variables() {
  std::vector<std::string> names = {std::string(kConfigFileEnv)};
  for (const Setting& setting : all_settings()) names.push_back(env_variable_name(setting));
  return names;
}

}  // namespace

std::vector<std::string> process_environment() {
  std::vector<std::string> entries;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) entries.emplace_back(*entry);
  return entries;
}

std::optional<std::string> find_environment_value(const std::vector<std::string>& environment,
                                                  absl::string_view name) {
  for (const std::string& entry : environment) {
    if (entry.size() > name.size() && entry[name.size()] == '=' && absl::StartsWith(entry, name)) {
      return entry.substr(name.size() + 1);
    }
  }
  return std::nullopt;
}

absl::Status apply_environment(ServerConfig& config, const std::vector<std::string>& environment) {
  ProblemList problems;
  for (const std::string& entry : environment) {
    if (!absl::StartsWith(entry, kEnvPrefix)) continue;
    const size_t equals = entry.find('=');
    const absl::string_view name = absl::string_view(entry).substr(0, equals);
    const absl::string_view value =
        equals == std::string::npos ? absl::string_view() : absl::string_view(entry).substr(equals + 1);
    if (name == kConfigFileEnv) continue;  // names the file; read by the loader
    if (const Setting* setting = find_setting_by_env(name)) {
      problems.add(apply_setting(*setting, value, absl::StrCat("env ", name), config));
    } else {
      problems.add(absl::StrCat("env ", name, ": unknown variable", did_you_mean(name, known_variables()),
                                "; every REEFDB_ variable must name a setting"));
    }
  }
  return problems.status();
}

}  // namespace reef::prod
