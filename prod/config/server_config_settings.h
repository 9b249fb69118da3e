// The settings table: the one list of every ServerConfig setting, with its
// canonical key and a typed reference to its field. The YAML reader, the
// environment reader, the flag parser, describe() and the usage text all
// walk this table, so a setting added here exists in every source at once
// and cannot be forgotten in one of them.
//
// Names derive from the key: "raft.heartbeat_ms" is the YAML path
// raft: {heartbeat_ms: ...}, the variable REEFDB_RAFT_HEARTBEAT_MS and the
// flag --raft-heartbeat-ms.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/types/span.h"
#include "prod/config/server_config.h"

namespace reef::prod {

// A function returning a reference to one field of a config.
template <typename T>
using FieldAccess = T& (*)(ServerConfig&);

using FieldRef = std::variant<FieldAccess<std::string>, FieldAccess<uint64_t>, FieldAccess<uint32_t>,
                              FieldAccess<bool>, FieldAccess<std::optional<Endpoint>>, FieldAccess<LogLevel>,
                              FieldAccess<std::vector<PeerConfig>>>;

struct Setting {
  absl::string_view key;   // canonical key = YAML path, e.g. "raft.heartbeat_ms"
  absl::string_view help;  // one line, for --help and describe()
  FieldRef field;
};

// Every setting, in documentation order.
absl::Span<const Setting> all_settings();
const Setting* find_setting_by_key(absl::string_view key);
const Setting* find_setting_by_env(absl::string_view variable);
const Setting* find_setting_by_flag(absl::string_view flag);  // without "--"

std::string env_variable_name(const Setting& setting);  // REEFDB_RAFT_HEARTBEAT_MS
std::string flag_name(const Setting& setting);          // raft-heartbeat-ms

// True for the settings a YAML file writes as a list rather than a scalar.
bool is_list_setting(const Setting& setting);
// True for the settings whose YAML value must be a plain (unquoted) scalar:
// numbers and booleans. A quoted "100" is a string, and a string where a
// number belongs is a type error.
bool needs_plain_scalar(const Setting& setting);

// Parses `text` into the setting's field and records `source` as where the
// value came from. Errors read "<source>: <key>: <problem>".
absl::Status apply_setting(const Setting& setting, absl::string_view text, absl::string_view source,
                           ServerConfig& config);
// The field's current value in the form apply_setting() accepts.
std::string format_setting(const Setting& setting, const ServerConfig& config);

// The environment variable and flag naming the config file itself (it is
// not a setting: it says where the settings are).
inline constexpr absl::string_view kConfigFileEnv = "REEFDB_CONFIG";
inline constexpr absl::string_view kConfigFileFlag = "config";
inline constexpr absl::string_view kEnvPrefix = "REEFDB_";

// " (did you mean \"x\"?)" when one candidate is within a small edit
// distance of `wrong`, otherwise "".
std::string did_you_mean(absl::string_view wrong, const std::vector<std::string>& candidates);

// Collects every problem found in one pass, so an operator fixes them all
// at once instead of one per restart.
class ProblemList {
 public:
  void add(std::string problem) { problems_.push_back(std::move(problem)); }
  void add(const absl::Status& status);
  bool empty() const { return problems_.empty(); }
  // OK when empty, else INVALID_ARGUMENT with one problem per line.
  absl::Status status() const;

 private:
  std::vector<std::string> problems_;
};

}  // namespace reef::prod
