#include "raft/core/config.h"

#include "absl/strings/str_cat.h"

namespace reef::raft {

absl::Status CoreConfig::validate() const {
  if (id == NodeId(0)) return absl::InvalidArgumentError("config: node id 0 is reserved");
  if (heartbeat_interval_ticks == 0) {
    return absl::InvalidArgumentError("config: heartbeat_interval_ticks must be > 0");
  }
  if (election_timeout_ticks <= heartbeat_interval_ticks) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: election_timeout_ticks (", election_timeout_ticks,
        ") must exceed heartbeat_interval_ticks (", heartbeat_interval_ticks, ")"));
  }
  if (lease_reads && !check_quorum) {
    return absl::InvalidArgumentError("config: lease_reads requires check_quorum");
  }
  if (lease_reads && lease_clock_margin_ticks >= election_timeout_ticks) {
    return absl::InvalidArgumentError(
        "config: lease_clock_margin_ticks must be smaller than election_timeout_ticks");
  }
  if (max_inflight_messages == 0 || max_inflight_bytes == 0) {
    return absl::InvalidArgumentError("config: in-flight limits must be > 0");
  }
  if (max_entries_per_message == 0 || max_message_bytes == 0 || max_entry_bytes == 0) {
    return absl::InvalidArgumentError("config: message limits must be > 0");
  }
  if (max_uncommitted_bytes < max_entry_bytes) {
    return absl::InvalidArgumentError("config: max_uncommitted_bytes must be >= max_entry_bytes");
  }
  if (max_pending_reads == 0) return absl::InvalidArgumentError("config: max_pending_reads must be > 0");
  return absl::OkStatus();
}

}  // namespace reef::raft
