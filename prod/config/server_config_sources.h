// Reading a ServerConfig from its four sources, lowest precedence first:
// defaults < YAML file < REEFDB_* environment < command-line flags.
//
// The server's startup is
//
//   absl::StatusOr<CommandLine> line = parse_command_line(args);   // argv[1..]
//   if (line.ok() && line->help) { print command_line_usage(); exit 0; }
//   absl::StatusOr<ServerConfig> config = load_server_config(*line, process_environment());
//   absl::StatusOr<raft::NodeConfig> node = to_node_config(*config, seed);
//   log describe(*config);
//
// Each apply_* function overlays one source onto a config and records where
// every value it set came from (ServerConfig::sources). All of them refuse
// what they do not recognise (unknown YAML keys, unknown REEFDB_* variables,
// unknown flags) instead of ignoring it, naming the offender and the nearest
// known name: a misspelt setting must not silently leave its default in
// place. Values a source cannot parse are errors too. Every error names the
// source ("/etc/reefdb.yaml:12", "env REEFDB_DATA_DIR", "flag --data-dir")
// and the setting's key, and each function reports all problems it found at
// once, one per line.
//
// Nothing here throws: yaml-cpp's exceptions are caught and become Statuses.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prod/config/server_config.h"

namespace reef::prod {

// --- YAML (prod/config/server_config_yaml.cc) --------------------------------
// `text` is one YAML document: a map whose keys are the settings' keys, with
// sections (raft:, http:, snapshot:, requests:, limits:) as nested maps and
// peers as a list of {id, raft_address, http_address} maps. An empty
// document changes nothing. `source_name` (usually the path) starts errors.
absl::Status apply_yaml(ServerConfig& config, absl::string_view text, absl::string_view source_name);
absl::Status apply_yaml_file(ServerConfig& config, const std::string& path);

// --- environment (prod/config/server_config_env.cc) --------------------------
// `environment` holds "NAME=value" entries. Every variable starting with
// REEFDB_ must be a setting's variable or REEFDB_CONFIG; others are ignored.
absl::Status apply_environment(ServerConfig& config, const std::vector<std::string>& environment);
// This process's environment, in the form apply_environment() takes.
std::vector<std::string> process_environment();
// The value of `name` in `environment`, if present.
std::optional<std::string> find_environment_value(const std::vector<std::string>& environment,
                                                  absl::string_view name);

// --- command line (prod/config/server_config_flags.cc) -----------------------
struct CommandLine {
  std::optional<std::string> config_path;  // --config; overrides REEFDB_CONFIG
  bool help = false;                       // --help or -h
  // Settings in the order given, as (flag name without "--", value). A
  // flag given twice: the later one wins.
  std::vector<std::pair<std::string, std::string>> settings;
};
// Accepts "--key=value" and "--key value"; a boolean flag alone
// ("--pre-vote", followed by nothing or by another flag) means true.
// Positional arguments and unknown flags are errors.
absl::StatusOr<CommandLine> parse_command_line(const std::vector<std::string>& args);
absl::Status apply_flags(ServerConfig& config, const CommandLine& line);
// Every flag with its default and one line of help, for --help.
std::string command_line_usage();

// --- everything (prod/config/server_config_load.cc) --------------------------
// Defaults, then the file named by --config or REEFDB_CONFIG (none: no
// file), then the environment, then the flags; then resolve_derived_settings()
// and validate(), with apply_bootstrap_defaults() before them, given what
// `remembered_node_id` (if any) says the data directory remembers. The
// result is complete and valid.
using RememberedNodeId = std::function<std::optional<uint64_t>(const std::string& data_dir)>;
absl::StatusOr<ServerConfig> load_server_config(const CommandLine& line,
                                                const std::vector<std::string>& environment,
                                                const RememberedNodeId& remembered_node_id = nullptr);
// Same, parsing `args` (argv without the program name) first.
absl::StatusOr<ServerConfig> load_server_config(const std::vector<std::string>& args,
                                                const std::vector<std::string>& environment);

}  // namespace reef::prod
