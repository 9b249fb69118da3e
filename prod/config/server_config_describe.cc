// describe(): the configuration as the startup log prints it. Every setting
// is listed, so a log line answers "what was this node running with?"
// without the files and environment it was started from.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "prod/config/server_config.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_values.h"

namespace reef::prod {
namespace {

std::string source_of(const ServerConfig& config, absl::string_view key) {
  auto it = config.sources.find(key);
  return it == config.sources.end() ? "default" : it->second;
}

void describe_peers(const ServerConfig& config, std::string& out) {
  absl::StrAppendFormat(&out, "  %-33s (%s)\n", "peers", source_of(config, "peers"));
  for (const PeerConfig& peer : config.peers) {
    absl::StrAppendFormat(&out, "    node %d: raft %s, http %s%s\n", peer.id.value(), peer.raft_address.to_string(),
                          peer.http_address.to_string(), peer.id.value() == config.node_id ? "  <- this node" : "");
  }
}

}  // namespace

std::string describe(const ServerConfig& config) {
  std::string out = absl::StrFormat("ReefDB server configuration: node %d, cluster \"%s\" (id %016x)\n",
                                    config.node_id, config.cluster_name, cluster_id(config.cluster_name));
  for (const Setting& setting : all_settings()) {
    if (is_list_setting(setting)) {
      describe_peers(config, out);
      continue;
    }
    std::string value = format_setting(setting, config);
    if (value.empty()) value = setting.key == "join" ? "(not joining)" : "(unset)";
    absl::StrAppendFormat(&out, "  %-33s = %-24s (%s)\n", setting.key, value, source_of(config, setting.key));
  }
  return out;
}

}  // namespace reef::prod
