// SimNode: one ReefDB node process inside the simulator — the real
// raft::Node with real storage (NodeStorage over its own SimFileSystem, via
// NodeLog), a real state machine, a drifting clock, and a process that can
// crash, restart and pause.
//
// Every event that reaches the node (tick, delivered message, finished disk
// write, client request) is one loop turn: the node is flushed at its end if
// it needs it (Node::needs_flush()). Disk writes take a simulated latency; writes queued while the disk is
// busy are carried out together when it is free (NodeLog's group commit).
// A crash loses the node's memory and queued writes, and SimFileSystem::crash()
// drops whatever was not synced; optionally the crash interrupts a write half
// way, leaving a torn tail.
//
// Membership changes bring nodes into existence (a fresh id, an empty disk,
// an empty initial configuration) and take them out of it: retire() shuts a
// removed node down for good, its disk kept but never booted again, so its
// id is never reused.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "absl/functional/any_invocable.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/driver/node.h"
#include "raft/core/random.h"
#include "raft/ports/state_machine.h"
#include "sim/scheduler.h"
#include "sim/sim_clock.h"
#include "sim/sim_file_system.h"
#include "sim/sim_network.h"
#include "storage/node_log.h"
#include "storage/node_storage.h"

namespace reef::sim {

// Makes a node's state machine at each boot; a persistent one keeps its
// files in the given directory of the node's disk, and an error (the disk
// failed it) keeps the node down.
using StateMachineFactory = std::function<absl::StatusOr<std::unique_ptr<raft::StateMachine>>(
    raft::NodeId, storage::FileSystem& disk, const std::string& dir)>;

struct SimNodeOptions {
  raft::NodeConfig node;
  raft::Configuration initial_configuration;
  storage::NodeStorageOptions storage;
  uint64_t tick_ms = 10;
  uint64_t tick_jitter_us = 0;  // added to each tick interval, uniform in [0, jitter]
  int64_t clock_drift_ppm = 0;
  // What the node's wall clock reads at simulated time zero (Unix ms; its
  // clock's sub-second offset is added). Default: 2024-01-01T00:00:00Z.
  uint64_t wall_clock_start_unix_ms = 1'704'067'200'000;
  uint64_t disk_latency_min_us = 100;
  uint64_t disk_latency_max_us = 2000;
  SimFaults disk_faults;
  // Where the node writes policy snapshots; null (the simulator's choice):
  // inline. Tests pass one that runs the work when they say.
  raft::Background* background = nullptr;
};

class SimNode {
 public:
  static constexpr char kDataDir[] = "/data";
  static constexpr char kStateMachineDir[] = "/data/sm";

  SimNode(Scheduler& scheduler, SimNetwork& network, raft::NodeId id, SimNodeOptions options,
          StateMachineFactory make_state_machine, uint64_t seed);
  ~SimNode();

  // Boots the node from its disk. Not OK if recovery failed (the node then
  // stays down; the reason is in down_reason()).
  absl::Status start();
  // Kills the process. With `interrupt_write`, a queued disk write is half
  // done when the power goes (its data written, its sync never happening).
  void crash(bool interrupt_write = false);
  // Shuts the node down for good (it was removed from the cluster): it never
  // starts again.
  void retire();
  // Freezes the process for `duration_us`: nothing runs, messages wait.
  void pause(uint64_t duration_us);

  void deliver(raft::NodeMessage message);
  void submit(raft::ClientRequest request, raft::ResponseCallback done);
  // Calls into the node (an admin call, a driver notification) as one loop
  // turn of its process, like any other event: flushed at its end.
  void run_turn(const char* what, absl::AnyInvocable<void(raft::Node&)> action);

  raft::NodeId id() const { return id_; }
  bool retired() const { return retired_; }
  bool up() const { return node_ != nullptr; }
  // Up and not stopped by a disk error.
  bool running() const { return node_ != nullptr && !node_->stopped(); }
  bool paused() const { return scheduler_.now_us() < paused_until_us_; }
  raft::Node* node() { return node_.get(); }
  const raft::Node* node() const { return node_.get(); }
  raft::StateMachine* state_machine() { return state_machine_.get(); }
  SimFileSystem& fs() { return fs_; }
  SimClock& clock() { return clock_; }
  const absl::Status& down_reason() const { return down_reason_; }
  uint64_t restarts() const { return restarts_; }
  // Whether the node's durable log (up or down) holds entry (index, term):
  // it is covered by its snapshot, or written and synced. Down, this is what
  // it had made durable when it went down.
  bool durably_holds(raft::Index index, raft::Term term) const;
  // Called at the end of every loop turn of the process (checkers that
  // must see the moment something happened, not a later sample).
  void set_turn_observer(std::function<void(SimNode&)> observer) { turn_observer_ = std::move(observer); }

 private:
  void schedule_tick();
  void on_write_queued();
  void schedule_disk();
  void run_disk();
  // Runs `action` now unless paused (then at the end of the pause), if the
  // process is still the same incarnation, as one loop turn: flushes the
  // node afterwards if it needs it.
  void run_in_process(uint64_t generation, const char* what, absl::AnyInvocable<void()> action);
  // What the node has made durable, remembered as it goes down.
  void remember_durable_log();

  Scheduler& scheduler_;
  SimNetwork& network_;
  raft::NodeId id_;
  SimNodeOptions options_;
  StateMachineFactory make_state_machine_;
  raft::Prng rng_;
  SimFileSystem fs_;
  SimClock clock_;

  uint64_t generation_ = 0;  // bumped by every crash: stale events do nothing
  uint64_t paused_until_us_ = 0;
  bool disk_scheduled_ = false;
  uint64_t restarts_ = 0;
  bool retired_ = false;
  std::function<void(SimNode&)> turn_observer_;
  // While down: the snapshot index and the terms of the synced entries after it.
  raft::Index durable_snapshot_;
  std::vector<raft::Term> durable_terms_;
  absl::Status down_reason_ = absl::UnavailableError("not started");

  std::unique_ptr<storage::NodeStorage> storage_;
  std::unique_ptr<storage::NodeLog> log_;
  std::unique_ptr<raft::StateMachine> state_machine_;
  std::unique_ptr<raft::Node> node_;
};

}  // namespace reef::sim
