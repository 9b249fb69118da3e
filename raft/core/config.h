// Configuration of one Raft core. Units are in names; time is in ticks, the
// driver's fixed-length clock steps (the core never reads a clock).
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "raft/core/injected_bugs.h"
#include "raft/core/types.h"

namespace reef::raft {

struct CoreConfig {
  NodeId id;

  // A follower that hears nothing from a leader for a random number of ticks
  // in [election_timeout_ticks, 2 * election_timeout_ticks) starts an
  // election (thesis §3.4: randomisation makes split votes rare).
  uint32_t election_timeout_ticks = 10;
  uint32_t heartbeat_interval_ticks = 1;

  // Pre-vote (thesis §9.6): a node first asks whether it could win before
  // disrupting the cluster with a higher term.
  bool pre_vote = true;
  // Check-quorum (thesis §6.2): a leader that has not heard from a quorum in
  // an election timeout steps down. Leader stickiness (a node that heard
  // from a live leader within the election timeout ignores higher-term vote
  // requests) is always on, independent of this flag.
  bool check_quorum = true;

  // Lease-based reads (thesis §6.4.1): the leader answers reads without a
  // heartbeat round while it holds a lease. Requires check_quorum.
  //
  // Clock assumption: ticks on all nodes advance at rates that differ by less
  // than lease_clock_margin_ticks over one election timeout. The lease runs
  // for election_timeout_ticks - lease_clock_margin_ticks after the start of
  // the heartbeat round a quorum acknowledged; no follower that acknowledged
  // it grants a vote to anybody else within election_timeout_ticks of its
  // own receipt of that heartbeat. Unbounded clock drift or a paused process
  // breaks this and can return stale reads; ReadIndex has no such assumption.
  // Every voter of a cluster that uses leases must set this: voters enforce
  // the lease by refusing votes for an election timeout after they boot.
  bool lease_reads = false;
  uint32_t lease_clock_margin_ticks = 2;

  // Flow control (thesis §10.2.1). A follower in the replicate state may have
  // at most this many append messages, and this many entry bytes, in flight.
  uint32_t max_inflight_messages = 256;
  uint64_t max_inflight_bytes = 64ULL << 20;
  // Bounds on one AppendEntries. A single entry larger than the byte bound
  // is still sent alone (proposals above max_entry_bytes are refused).
  // 32 MiB holds the batch of the largest HTTP request (16 MiB of JSON)
  // with room for its encoding's overhead.
  uint32_t max_entries_per_message = 1024;
  uint64_t max_message_bytes = 1ULL << 20;
  uint64_t max_entry_bytes = 32ULL << 20;
  // Bound on proposed but not yet committed payload bytes at the leader;
  // proposals beyond it fail with RESOURCE_EXHAUSTED instead of growing the
  // log without limit while followers are unreachable.
  uint64_t max_uncommitted_bytes = 256ULL << 20;
  // Bound on read requests waiting for confirmation (local and forwarded).
  uint32_t max_pending_reads = 4096;

  // How often a commit index that alone changed is made durable. The commit
  // index is volatile state (thesis §3.5, Figure 3.1): a restarted node
  // relearns it from the leader, and what a node persists of it only lets
  // boot replay committed entries before the first election. Writing it on
  // every advance would cost a second sync (the hard state file) in every
  // follower's append turn, before its ack. So a hard state whose term and
  // vote are unchanged is emitted at most once per this many ticks; a term
  // or vote change is emitted at once and carries the current commit.
  // 0: emit every commit advance (each costs a sync).
  uint32_t commit_persist_interval_ticks = 10;

  // Seeds the core's private PRNG (election timeouts only).
  uint64_t seed = 0;

  // Simulator only: deliberate bugs for proving the checkers (all off).
  InjectedBugs bugs;

  absl::Status validate() const;
};

}  // namespace reef::raft
