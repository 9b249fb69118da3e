// The YAML source: walks the document against the settings table, so every
// key must be a known setting or section, and every value must have its
// setting's shape. yaml-cpp keeps duplicate keys and reports neither them
// nor types, so both are checked here.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "prod/config/server_config_settings.h"
#include "prod/config/server_config_sources.h"
#include "prod/config/server_config_values.h"
#include "yaml-cpp/yaml.h"

namespace reef::prod {
namespace {

// A configuration file is a page of settings; anything this large is not one.
constexpr std::streamsize kMaxConfigFileBytes = 1 << 20;

std::string join_key(absl::string_view prefix, absl::string_view name) {
  return prefix.empty() ? std::string(name) : absl::StrCat(prefix, ".", name);
}

absl::string_view shape_name(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Null: return "nothing (null)";
    case YAML::NodeType::Scalar: return "a single value";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Map: return "a map";
    case YAML::NodeType::Undefined: break;
  }
  return "an undefined node";
}

// The keys (full paths) that may appear directly under `prefix`: settings
// and the sections that hold settings.
std::vector<std::string> keys_under(absl::string_view prefix) {
  absl::btree_set<std::string> keys;
  const std::string start = prefix.empty() ? "" : absl::StrCat(prefix, ".");
  for (const Setting& setting : all_settings()) {
    if (!absl::StartsWith(setting.key, start)) continue;
    const absl::string_view rest = setting.key.substr(start.size());
    keys.insert(absl::StrCat(start, rest.substr(0, rest.find('.'))));
  }
  return {keys.begin(), keys.end()};
}

bool is_section(absl::string_view key) {
  const std::string start = absl::StrCat(key, ".");
  for (const Setting& setting : all_settings()) {
    if (absl::StartsWith(setting.key, start)) return true;
  }
  return false;
}

class YamlReader {
 public:
  YamlReader(ServerConfig& config, absl::string_view source) : config_(config), source_(source) {}

  absl::Status read(const YAML::Node& root) {
    if (root.IsNull()) return absl::OkStatus();  // an empty file sets nothing
    if (!root.IsMap()) {
      problems_.add(absl::StrCat(where(root), ": expected a map of settings, got ", shape_name(root)));
    } else {
      read_map(root, "");
    }
    return problems_.status();
  }

 private:
  std::string where(const YAML::Node& node) const { return absl::StrCat(source_, ":", node.Mark().line + 1); }

  void fail(const YAML::Node& node, absl::string_view key, absl::string_view problem) {
    problems_.add(absl::StrCat(where(node), ": ", key, ": ", problem));
  }

  void read_map(const YAML::Node& map, absl::string_view prefix);
  void read_entry(const YAML::Node& key_node, const YAML::Node& value, absl::string_view prefix);
  void read_setting(const Setting& setting, const YAML::Node& value);
  void read_peers(const YAML::Node& list);
  std::optional<absl::btree_map<std::string, YAML::Node>> peer_fields(const YAML::Node& item,
                                                                     absl::string_view path);
  std::optional<PeerConfig> read_peer(const YAML::Node& item, absl::string_view path);

  ServerConfig& config_;
  std::string source_;
  ProblemList problems_;
};

void YamlReader::read_map(const YAML::Node& map, absl::string_view prefix) {
  absl::btree_set<std::string> seen;
  for (auto it = map.begin(); it != map.end(); ++it) {
    if (!it->first.IsScalar()) {
      fail(it->first, prefix.empty() ? "(top level)" : prefix, "keys must be plain names");
      continue;
    }
    const std::string& name = it->first.Scalar();
    if (name.find('.') != std::string::npos) {
      // "raft.tick_ms:" would alias "raft: {tick_ms:}" and dodge the duplicate check.
      fail(it->first, join_key(prefix, name), "dotted keys are not accepted; nest sections as maps");
      continue;
    }
    if (!seen.insert(name).second) {
      fail(it->first, join_key(prefix, name), "duplicate key (YAML would silently keep only one)");
      continue;
    }
    read_entry(it->first, it->second, prefix);
  }
}

void YamlReader::read_entry(const YAML::Node& key_node, const YAML::Node& value, absl::string_view prefix) {
  const std::string key = join_key(prefix, key_node.Scalar());
  if (const Setting* setting = find_setting_by_key(key)) {
    read_setting(*setting, value);
  } else if (is_section(key)) {
    if (value.IsMap()) {
      read_map(value, key);
    } else if (!value.IsNull()) {  // an empty section sets nothing
      fail(value, key, absl::StrCat("is a section: expected a map, got ", shape_name(value)));
    }
  } else {
    fail(key_node, key, absl::StrCat("unknown key", did_you_mean(key, keys_under(prefix))));
  }
}

void YamlReader::read_setting(const Setting& setting, const YAML::Node& value) {
  if (is_list_setting(setting)) {
    read_peers(value);
    return;
  }
  if (!value.IsScalar()) {
    fail(value, setting.key, absl::StrCat("expected a single value, got ", shape_name(value)));
    return;
  }
  if (needs_plain_scalar(setting) && value.Tag() != "?") {
    fail(value, setting.key,
         absl::StrCat("expected an unquoted number or boolean, got the string \"", value.Scalar(), "\""));
    return;
  }
  problems_.add(apply_setting(setting, value.Scalar(), where(value), config_));
}

void YamlReader::read_peers(const YAML::Node& list) {
  if (!list.IsSequence()) {
    fail(list, "peers", absl::StrCat("expected a list of {id, raft_address, http_address}, got ", shape_name(list)));
    return;
  }
  std::vector<PeerConfig> peers;
  bool all_read = true;
  for (size_t i = 0; i < list.size(); ++i) {
    std::optional<PeerConfig> peer = read_peer(list[i], absl::StrCat("peers[", i, "]"));
    all_read = all_read && peer.has_value();
    if (peer) peers.push_back(*std::move(peer));
  }
  if (!all_read) return;
  config_.peers = std::move(peers);
  config_.sources["peers"] = where(list);
}

// The fields of one peers[] item by name, or nothing (problems recorded).
std::optional<absl::btree_map<std::string, YAML::Node>> YamlReader::peer_fields(const YAML::Node& item,
                                                                                 absl::string_view path) {
  const std::vector<std::string> names = {"id", "raft_address", "http_address"};
  if (!item.IsMap()) {
    fail(item, path, absl::StrCat("expected a map {id, raft_address, http_address}, got ", shape_name(item)));
    return std::nullopt;
  }
  absl::btree_map<std::string, YAML::Node> fields;
  bool ok = true;
  for (auto it = item.begin(); it != item.end(); ++it) {
    const std::string name = it->first.IsScalar() ? it->first.Scalar() : "";
    const std::string key = absl::StrCat(path, ".", name);
    ok = false;
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      fail(it->first, key, absl::StrCat("unknown key", did_you_mean(name, names)));
    } else if (fields.contains(name)) {
      fail(it->first, key, "duplicate key");
    } else if (!it->second.IsScalar() || (name == "id" && it->second.Tag() != "?")) {
      fail(it->second, key, absl::StrCat("expected ", name == "id" ? "an unquoted number" : "host:port", ", got ",
                                         it->second.IsScalar() ? "a quoted string" : shape_name(it->second)));
    } else {
      fields.emplace(name, it->second);
      ok = true;
    }
  }
  for (const std::string& name : names) {
    if (!fields.contains(name)) {
      fail(item, absl::StrCat(path, ".", name), "is required");
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return fields;
}

std::optional<PeerConfig> YamlReader::read_peer(const YAML::Node& item, absl::string_view path) {
  std::optional<absl::btree_map<std::string, YAML::Node>> fields = peer_fields(item, path);
  if (!fields) return std::nullopt;
  const YAML::Node& id_node = (*fields)["id"];
  const YAML::Node& raft_node = (*fields)["raft_address"];
  const YAML::Node& http_node = (*fields)["http_address"];
  absl::StatusOr<uint64_t> id = parse_unsigned(id_node.Scalar(), std::numeric_limits<uint64_t>::max());
  absl::StatusOr<Endpoint> raft_address = parse_endpoint(raft_node.Scalar());
  absl::StatusOr<Endpoint> http_address = parse_endpoint(http_node.Scalar());
  if (!id.ok()) fail(id_node, absl::StrCat(path, ".id"), id.status().message());
  if (!raft_address.ok()) fail(raft_node, absl::StrCat(path, ".raft_address"), raft_address.status().message());
  if (!http_address.ok()) fail(http_node, absl::StrCat(path, ".http_address"), http_address.status().message());
  if (!id.ok() || !raft_address.ok() || !http_address.ok()) return std::nullopt;
  return PeerConfig{raft::NodeId(*id), *std::move(raft_address), *std::move(http_address)};
}

absl::StatusOr<std::string> read_small_file(const std::string& path) {
  std::error_code error;
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": config file is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open config file: ", std::strerror(errno)));
  std::string contents(static_cast<size_t>(kMaxConfigFileBytes) + 1, '\0');
  in.read(contents.data(), kMaxConfigFileBytes + 1);
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": cannot read config file: ", std::strerror(errno)));
  if (in.gcount() > kMaxConfigFileBytes) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": config file is larger than 1 MiB"));
  }
  contents.resize(static_cast<size_t>(in.gcount()));
  return contents;
}

}  // namespace

absl::Status apply_yaml(ServerConfig& config, absl::string_view text, absl::string_view source_name) {
  try {
    const YAML::Node root = YAML::Load(std::string(text));
    return YamlReader(config, source_name).read(root);
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(source_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": invalid YAML: ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source_name, ": invalid YAML: ", e.what()));
  }
}

absl::Status apply_yaml_file(ServerConfig& config, const std::string& path) {
  absl::StatusOr<std::string> text = read_small_file(path);
  if (!text.ok()) return text.status();
  return apply_yaml(config, *text, path);
}

}  // namespace reef::prod
