#include "prod/config/server_config_settings.h"

#include <algorithm>
#include <array>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "prod/config/server_config_values.h"

namespace reef::prod {
namespace {

// A FieldRef to `config.member`: a capture-less lambda converted to a plain
// function pointer, so the table is a constant array.
#define REEF_FIELD(member) \
  FieldRef(+[](ServerConfig& c) -> decltype((c.member)) { return c.member; })

const std::array kSettings = {
    Setting{"node_id", "This node's id, in peers (default: remembered by data_dir, else 1)", REEF_FIELD(node_id)},
    Setting{"cluster_name", "Cluster name; its hash is the cluster id", REEF_FIELD(cluster_name)},
    Setting{"data_dir", "Directory for the Raft log, hard state and snapshots", REEF_FIELD(data_dir)},
    Setting{"log_level", "trace, debug, info, warn, error or off", REEF_FIELD(log_level)},
    Setting{"peers", "Initial cluster: id=raft-host:port/http-host:port,... (default: this node alone)", REEF_FIELD(peers)},
    Setting{"join", "Join a running cluster through members' HTTP addresses: host:port,... (instead of peers)",
            REEF_FIELD(join)},
    Setting{"raft.listen_address", "Raft listener bind address (default: raft advertise address)",
            REEF_FIELD(raft.listen_address)},
    Setting{"raft.advertise_address", "Raft address peers dial (default: this node's peers entry)",
            REEF_FIELD(raft.advertise_address)},
    Setting{"raft.tick_ms", "Length of one Raft tick", REEF_FIELD(raft.tick_ms)},
    Setting{"raft.election_timeout_ms", "Election timeout; >= 5 heartbeats, multiple of tick_ms",
            REEF_FIELD(raft.election_timeout_ms)},
    Setting{"raft.heartbeat_ms", "Leader heartbeat interval; multiple of tick_ms", REEF_FIELD(raft.heartbeat_ms)},
    Setting{"raft.pre_vote", "Ask for a pre-vote before starting an election", REEF_FIELD(raft.pre_vote)},
    Setting{"raft.check_quorum", "Leader steps down without a live quorum", REEF_FIELD(raft.check_quorum)},
    Setting{"raft.lease_reads", "Serve linearizable reads from a leader lease", REEF_FIELD(raft.lease_reads)},
    Setting{"raft.lease_clock_margin_ms", "Clock drift allowance subtracted from the lease",
            REEF_FIELD(raft.lease_clock_margin_ms)},
    Setting{"raft.max_inflight_messages", "Append messages in flight per follower",
            REEF_FIELD(raft.max_inflight_messages)},
    Setting{"raft.max_inflight_bytes", "Entry bytes in flight per follower", REEF_FIELD(raft.max_inflight_bytes)},
    Setting{"raft.max_entries_per_message", "Entries per append message", REEF_FIELD(raft.max_entries_per_message)},
    Setting{"raft.max_message_bytes", "Entry bytes per append message", REEF_FIELD(raft.max_message_bytes)},
    Setting{"raft.max_entry_bytes", "Largest proposal accepted", REEF_FIELD(raft.max_entry_bytes)},
    Setting{"raft.max_uncommitted_bytes", "Proposed but uncommitted bytes at the leader",
            REEF_FIELD(raft.max_uncommitted_bytes)},
    Setting{"raft.max_pending_reads", "Read requests awaiting confirmation", REEF_FIELD(raft.max_pending_reads)},
    Setting{"http.listen_address", "HTTP API bind address (default: HTTP advertise address)",
            REEF_FIELD(http.listen_address)},
    Setting{"http.advertise_address", "HTTP address clients use (default: this node's peers entry)",
            REEF_FIELD(http.advertise_address)},
    Setting{"snapshot.entries", "Snapshot after this many applied entries", REEF_FIELD(snapshot.entries)},
    Setting{"snapshot.bytes", "Snapshot after this many applied payload bytes", REEF_FIELD(snapshot.bytes)},
    Setting{"snapshot.chunk_bytes", "Bytes per snapshot chunk", REEF_FIELD(snapshot.chunk_bytes)},
    Setting{"snapshot.resend_ms", "Resend an unacknowledged snapshot chunk after this long",
            REEF_FIELD(snapshot.resend_ms)},
    Setting{"snapshot.transfer_attempts", "Resends before a snapshot transfer is given up",
            REEF_FIELD(snapshot.transfer_attempts)},
    Setting{"requests.forward_to_leader", "Followers forward writes to the leader",
            REEF_FIELD(requests.forward_to_leader)},
    Setting{"requests.timeout_ms", "Deadline of a client request that names none", REEF_FIELD(requests.timeout_ms)},
    Setting{"requests.forwarded_timeout_ms", "Deadline the leader gives a forwarded request",
            REEF_FIELD(requests.forwarded_timeout_ms)},
    Setting{"requests.max_pending", "Client requests waiting in this node", REEF_FIELD(requests.max_pending)},
    Setting{"requests.read_timeout_ms", "A query running longer than this is interrupted",
            REEF_FIELD(requests.read_timeout_ms)},
    Setting{"requests.read_threads", "Threads that run queries beside the node's loop",
            REEF_FIELD(requests.read_threads)},
    Setting{"requests.max_queued_reads", "Queries waiting for a read thread; beyond it: refused",
            REEF_FIELD(requests.max_queued_reads)},
    Setting{"limits.max_http_body_bytes", "Largest HTTP request body", REEF_FIELD(limits.max_http_body_bytes)},
    Setting{"limits.max_frame_bytes", "Largest Raft transport frame", REEF_FIELD(limits.max_frame_bytes)},
    Setting{"limits.peer_send_queue_messages", "Messages queued per peer before dropping",
            REEF_FIELD(limits.peer_send_queue_messages)},
};

#undef REEF_FIELD

size_t edit_distance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
      diagonal = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, substitute});
    }
  }
  return row[b.size()];
}

}  // namespace

absl::Span<const Setting> all_settings() { return kSettings; }

const Setting* find_setting_by_key(absl::string_view key) {
  for (const Setting& setting : kSettings) {
    if (setting.key == key) return &setting;
  }
  return nullptr;
}

const Setting* find_setting_by_env(absl::string_view variable) {
  for (const Setting& setting : kSettings) {
    if (env_variable_name(setting) == variable) return &setting;
  }
  return nullptr;
}

const Setting* find_setting_by_flag(absl::string_view flag) {
  for (const Setting& setting : kSettings) {
    if (flag_name(setting) == flag) return &setting;
  }
  return nullptr;
}

std::string env_variable_name(const Setting& setting) {
  return absl::StrCat(kEnvPrefix, absl::AsciiStrToUpper(absl::StrReplaceAll(setting.key, {{".", "_"}})));
}

std::string flag_name(const Setting& setting) {
  return absl::StrReplaceAll(setting.key, {{".", "-"}, {"_", "-"}});
}

bool is_list_setting(const Setting& setting) {
  return std::holds_alternative<FieldAccess<std::vector<PeerConfig>>>(setting.field);
}

bool needs_plain_scalar(const Setting& setting) {
  return std::holds_alternative<FieldAccess<uint64_t>>(setting.field) ||
         std::holds_alternative<FieldAccess<uint32_t>>(setting.field) ||
         std::holds_alternative<FieldAccess<bool>>(setting.field);
}

absl::Status apply_setting(const Setting& setting, absl::string_view text, absl::string_view source,
                           ServerConfig& config) {
  absl::Status parsed = std::visit([&](auto access) { return parse_value(text, access(config)); }, setting.field);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": ", setting.key, ": ", parsed.message()));
  }
  config.sources[std::string(setting.key)] = std::string(source);
  return absl::OkStatus();
}

std::string format_setting(const Setting& setting, const ServerConfig& config) {
  // The accessors take a mutable config so that one table serves parsing
  // too; formatting only reads through the reference.
  ServerConfig& readable = const_cast<ServerConfig&>(config);
  return std::visit([&](auto access) { return format_value(access(readable)); }, setting.field);
}

std::string did_you_mean(absl::string_view wrong, const std::vector<std::string>& candidates) {
  // Up to one edit in four characters reads as a typo, more as another word.
  const size_t allowed = std::max<size_t>(1, wrong.size() / 4);
  const std::string* best = nullptr;
  size_t best_distance = allowed + 1;
  for (const std::string& candidate : candidates) {
    const size_t distance = edit_distance(wrong, candidate);
    if (distance < best_distance) {
      best = &candidate;
      best_distance = distance;
    }
  }
  return best ? absl::StrCat(" (did you mean \"", *best, "\"?)") : "";
}

void ProblemList::add(const absl::Status& status) {
  if (!status.ok()) problems_.emplace_back(status.message());
}

absl::Status ProblemList::status() const {
  if (problems_.empty()) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrJoin(problems_, "\n"));
}

}  // namespace reef::prod
