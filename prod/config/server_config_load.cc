// Composes the four sources in precedence order.
#include "absl/strings/str_cat.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_sources.h"

namespace reef::prod {

absl::StatusOr<ServerConfig> load_server_config(const CommandLine& line,
                                                const std::vector<std::string>& environment,
                                                const RememberedNodeId& remembered_node_id) {
  ServerConfig config;
  std::optional<std::string> path = line.config_path;
  if (!path) path = find_environment_value(environment, kConfigFileEnv);
  if (path && path->empty()) {
    return absl::InvalidArgumentError(line.config_path ? "flag --config: is empty" : "env REEFDB_CONFIG: is empty");
  }
  if (path) {
    if (absl::Status s = apply_yaml_file(config, *path); !s.ok()) return s;
  }
  if (absl::Status s = apply_environment(config, environment); !s.ok()) return s;
  if (absl::Status s = apply_flags(config, line); !s.ok()) return s;
  std::optional<uint64_t> remembered;
  if (remembered_node_id && !config.data_dir.empty()) remembered = remembered_node_id(config.data_dir);
  apply_bootstrap_defaults(config, remembered);
  resolve_derived_settings(config);
  if (absl::Status s = validate(config); !s.ok()) return s;
  return config;
}

absl::StatusOr<ServerConfig> load_server_config(const std::vector<std::string>& args,
                                                const std::vector<std::string>& environment) {
  absl::StatusOr<CommandLine> line = parse_command_line(args);
  if (!line.ok()) return line.status();
  return load_server_config(*line, environment);
}

}  // namespace reef::prod
