// Schedules: scripted runs of the in-memory cluster, for property tests, the
// checker's own tests and the schedule fuzzer.
//
// A Schedule is a cluster shape (3 to 5 voters, timing and flow-control
// knobs, which nodes persist only when told to) plus a list of actions:
// deliver / drop / duplicate / reorder a message, tick, propose, read,
// campaign, crash-restart, persist, partition / heal, compact, transfer.
// Membership changes add fresh nodes (new ids, empty logs and
// configurations) and remove members; a node removed by a committed change
// is shut down (never ticked, cut off from everyone) and never comes back.
// Every action is valid in every state: message positions and node numbers
// are taken modulo what currently exists, and an action that cannot apply
// (compact with nothing applied, deliver on an empty network) does nothing.
// That is what lets RapidCheck shrink schedules freely and lets the fuzzer
// feed arbitrary bytes.
//
// run_schedule() plays a schedule and reports the first violation of:
//  - the RaftSafetyChecker properties (election safety, log matching, leader
//    completeness, state machine safety, vote safety, per-node invariants),
//    checked after every single step;
//  - read linearizability: a read point handed out as OK is at least the
//    highest commit index any node had reached before the read was asked;
//  - proposal results: an entry applied at the (index, term) a proposal was
//    reported at is that proposal;
//  - liveness (optional): once the network heals, every node persists
//    promptly and time passes, a leader emerges and a fresh proposal is
//    applied on every member of its configuration.
//
// Everything is deterministic: the same schedule gives the same run.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "raft/core/random.h"
#include "tests/raft/support/cluster.h"

namespace reef::raft::testing {

enum class ActionKind : uint8_t {
  kDeliver,     // a: message position
  kDrop,        // a: message position
  kDuplicate,   // a: message position
  kReorder,     // a: message position (moved to the back)
  kDeliverAll,  // a: 1 + a messages from the front, at most RunOptions::deliver_all_max_messages
  kTick,        // a: node, b: 1 + b % 3 ticks
  kTickAll,     // b: 1 + b % 3 rounds
  kPropose,     // a: node; b even: the current leader instead, if there is one
  kReadIndex,   // a: node
  kCampaign,    // a: node
  kRestart,     // a: node (crash: pending writes are lost)
  kPersist,     // a: node
  kPartition,   // a: bit mask of the nodes on one side
  kHeal,
  kCompact,   // a: node, b: picks an index in (snapshot, applied]
  kTransfer,  // a: node (the leader, if it is not one), b: target
  // The leader changes the membership (b % 6): add a fresh node as a learner
  // or as a voter, promote or demote member#a, remove member#a, replace
  // member#a by a fresh voter (joint), add two fresh voters (joint).
  kMembership,
};
inline constexpr uint8_t kActionKinds = static_cast<uint8_t>(ActionKind::kMembership) + 1;
const char* action_kind_name(ActionKind kind);
// Relative frequency of each kind in generated schedules (random_schedule and
// the RapidCheck generators): mostly message traffic, faults now and then.
uint32_t action_kind_weight(ActionKind kind);

struct Action {
  ActionKind kind = ActionKind::kDeliver;
  uint8_t a = 0;
  uint8_t b = 0;

  friend bool operator==(const Action&, const Action&) = default;
};

struct Schedule {
  uint8_t nodes = 3;                   // voters, 3 to 5
  uint8_t learners = 0;                // 0 or 1 more members that replicate but never vote
  uint8_t seed = 1;                    // seeds every node's election timer
  uint8_t election_timeout_ticks = 4;  // 3 to 6: short, so ticks matter
  bool pre_vote = true;
  bool check_quorum = true;
  // Tiny in-flight windows and appends, so flow control and probing are
  // exercised by short schedules.
  bool tight_flow_control = false;
  // Lease reads (thesis §6.4.1). Leases assume bounded clock drift, so with
  // this set every tick action ticks all nodes in lockstep (kTick acts like
  // kTickAll) and check_quorum, which leases require, is on.
  bool lease_reads = false;
  // Bit i set: node i + 1 writes to disk only on a kPersist action, so a
  // crash can lose everything it was told to write since. Node numbers in
  // actions, this mask and partition masks cover voters and learners (the
  // learner, if any, is the last node).
  uint8_t manual_persist_mask = 0;
  std::vector<Action> actions;

  friend bool operator==(const Schedule&, const Schedule&) = default;
};

// One action per line, plus the header; for failure messages.
std::string describe(const Schedule& schedule);
// For RapidCheck counterexamples.
void showValue(const Schedule& schedule, std::ostream& os);

// The fuzzer's encoding: 4 header bytes (shape, flags, manual-persist mask,
// seed), then 3 bytes per action (kind, a, b). Shape: voters 3 + b % 3,
// learners (b / 3) % 2. Flags: bit 0 pre_vote, 1
// check_quorum, 2 tight_flow_control, 3-4 election timeout - 3, 5
// lease_reads. Any byte string decodes; a short tail is ignored and at most
// kMaxDecodedActions actions are read.
inline constexpr size_t kMaxDecodedActions = 512;
Schedule from_bytes(std::span<const uint8_t> bytes);
// Inverse of from_bytes for schedules whose fields are in range; used to
// turn a shrunk counterexample into a fuzz corpus file.
std::vector<uint8_t> to_bytes(const Schedule& schedule);

// A random schedule of `actions` actions drawn with weights that favour
// message traffic over faults. Used where a plain seeded search is wanted
// (the checker's teeth tests, benchmarks); properties use RapidCheck.
Schedule random_schedule(Prng& prng, size_t actions);

struct RunOptions {
  InjectedBug bug = InjectedBug::kNone;
  // Teeth tests only: let lease schedules tick nodes one by one, breaking
  // the bounded-drift assumption leases rest on, so stale reads can happen.
  bool lease_clock_drift = false;
  bool check_liveness = true;
  // Bounds that keep any schedule's run short.
  size_t max_actions = kMaxDecodedActions;
  size_t deliver_all_max_messages = 64;
  int liveness_rounds = 300;
  // If set, every action and the cluster state after it are written here
  // (for replaying a counterexample by hand).
  std::ostream* trace = nullptr;
};

struct RunResult {
  // Set on the first safety violation; the run stops there.
  std::optional<std::string> violation;
  // Set if the final liveness phase did not commit a fresh entry everywhere.
  std::optional<std::string> liveness_failure;

  size_t actions_run = 0;
  size_t committed_entries = 0;  // distinct indexes applied somewhere
  uint64_t max_term = 0;
  size_t restarts = 0;
  size_t reads_ok = 0;
  size_t accepted_proposals = 0;
  size_t membership_changes = 0;  // accepted by a leader
  size_t compactions = 0;
  std::string final_state;  // Cluster::describe() at the end

  bool ok() const { return !violation && !liveness_failure; }
  std::string summary() const;
};

RunResult run_schedule(const Schedule& schedule, const RunOptions& options = {});

// Delta debugging: removes runs of actions (halves, then quarters, ... then
// single actions) while `still_fails` holds, and returns the smallest
// schedule found. At most `max_runs` calls of `still_fails`, so it is cheap
// enough for a test; RapidCheck's own shrinking is unbounded.
Schedule minimize_schedule(const Schedule& schedule, const std::function<bool(const Schedule&)>& still_fails,
                           size_t max_runs = 1000);

}  // namespace reef::raft::testing
