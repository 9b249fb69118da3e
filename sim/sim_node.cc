#include "sim/sim_node.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "sim/seed.h"

namespace reef::sim {

SimNode::SimNode(Scheduler& scheduler, SimNetwork& network, raft::NodeId id, SimNodeOptions options,
                 StateMachineFactory make_state_machine, uint64_t seed)
    : scheduler_(scheduler),
      network_(network),
      id_(id),
      options_(std::move(options)),
      make_state_machine_(std::move(make_state_machine)),
      rng_(derive_seed(seed, "process")),
      fs_(derive_seed(seed, "disk")),
      clock_(scheduler, options_.clock_drift_ppm, rng_.below(1000000), options_.wall_clock_start_unix_ms) {
  fs_.set_faults(options_.disk_faults);
}

SimNode::~SimNode() = default;

absl::Status SimNode::start() {
  REEF_ASSERT(!up(), "node ", id_.value(), " started twice");
  REEF_ASSERT(!retired_, "node ", id_.value(), " started after it was retired");
  absl::StatusOr<std::unique_ptr<storage::NodeStorage>> storage =
      storage::NodeStorage::open(fs_, kDataDir, options_.storage);
  if (!storage.ok()) {
    down_reason_ = absl::Status(storage.status().code(), absl::StrCat("recovery failed: ", storage.status().message()));
    return down_reason_;
  }
  storage_ = std::move(*storage);
  log_ = std::make_unique<storage::NodeLog>(*storage_, [this] { on_write_queued(); });
  absl::StatusOr<std::unique_ptr<raft::StateMachine>> state_machine = make_state_machine_(id_, fs_, kStateMachineDir);
  if (!state_machine.ok()) {
    down_reason_ = absl::Status(state_machine.status().code(),
                                absl::StrCat("state machine: ", state_machine.status().message()));
    log_.reset();
    storage_.reset();
    return down_reason_;
  }
  state_machine_ = *std::move(state_machine);
  raft::NodeConfig config = options_.node;
  config.core.id = id_;
  config.core.seed = derive_seed(rng_.next_u64(), "core");
  raft::NodePorts ports{log_.get(), &network_.endpoint(id_), state_machine_.get(), &clock_, options_.background};
  absl::StatusOr<std::unique_ptr<raft::Node>> node =
      raft::Node::boot(std::move(config), ports, storage_->recovered_state(options_.initial_configuration));
  storage_->release_recovered_entries();
  if (!node.ok()) {
    down_reason_ = node.status();
    log_.reset();
    storage_.reset();
    state_machine_.reset();
    return down_reason_;
  }
  node_ = std::move(*node);
  down_reason_ = absl::OkStatus();
  schedule_tick();
  if (log_->queued_writes() > 0) schedule_disk();
  return absl::OkStatus();
}

void SimNode::crash(bool interrupt_write) {
  if (!up()) return;
  if (interrupt_write && log_->queued_writes() > 0) {
    // The write reaches the disk but its sync never happens: the next sync
    // call fails, and the crash below tears what was written.
    SimFaults faults = fs_.faults();
    fs_.set_faults(SimFaults{.fail_sync_call = fs_.stats().syncs + 1, .torn_writes = true});
    (void)log_->process_queued_writes();
    fs_.set_faults(faults);
  }
  ++generation_;
  ++restarts_;
  disk_scheduled_ = false;
  remember_durable_log();
  node_.reset();
  log_.reset();
  storage_.reset();
  // The disk crashes before the state machine goes: SQLite's close would
  // otherwise checkpoint and sync, a clean shutdown a crash never gets
  // (its handles from before the crash fail instead).
  fs_.crash();
  state_machine_.reset();
  down_reason_ = absl::UnavailableError("crashed");
}

void SimNode::retire() {
  crash();
  retired_ = true;
  down_reason_ = absl::UnavailableError("removed from the cluster");
}

void SimNode::remember_durable_log() {
  const raft::RaftLog& log = node_->core().log();
  durable_snapshot_ = log.snapshot().index;
  durable_terms_.clear();
  for (raft::Index i = log.first_index(); i <= std::min(log.persisted(), log.last_index()); i = i.next()) {
    durable_terms_.push_back(log.at(i).term);
  }
}

bool SimNode::durably_holds(raft::Index index, raft::Term term) const {
  if (up()) {
    const raft::RaftLog& log = node_->core().log();
    if (index <= log.snapshot().index) return true;
    return index <= log.persisted() && log.term_at(index) == term;
  }
  if (index <= durable_snapshot_) return true;
  const uint64_t offset = index.value() - durable_snapshot_.value() - 1;
  return offset < durable_terms_.size() && durable_terms_[offset] == term;
}

void SimNode::pause(uint64_t duration_us) {
  paused_until_us_ = std::max(paused_until_us_, scheduler_.now_us() + duration_us);
}

void SimNode::run_in_process(uint64_t generation, const char* what, absl::AnyInvocable<void()> action) {
  if (generation != generation_ || !up()) return;
  if (paused()) {
    // A frozen process: the event waits for it (in order, after the pause).
    scheduler_.schedule_at(paused_until_us_, absl::StrCat(what, " (after pause) n", id_.value()),
                           [this, generation, what, a = std::move(action)]() mutable {
                             run_in_process(generation, what, std::move(a));
                           });
    return;
  }
  action();
  // One event is one loop turn: the turn ends here (raft/driver/node.h).
  if (up() && node_->needs_flush()) node_->flush();
  if (turn_observer_) turn_observer_(*this);
}

void SimNode::schedule_tick() {
  uint64_t delay = clock_.global_duration_us(options_.tick_ms * 1000);
  if (options_.tick_jitter_us > 0) delay += rng_.below(options_.tick_jitter_us + 1);
  const uint64_t generation = generation_;
  scheduler_.schedule_after(delay, absl::StrCat("tick n", id_.value()), [this, generation] {
    if (generation != generation_) return;
    if (paused()) {
      // A frozen process's timer fires once when it wakes, not once per
      // missed interval: it comes back believing little time has passed,
      // which is exactly what makes pauses dangerous for leases.
      scheduler_.schedule_at(paused_until_us_, absl::StrCat("tick after pause n", id_.value()), [this, generation] {
        if (generation != generation_) return;
        run_in_process(generation, "tick", [this] { node_->on_tick(); });
        if (generation == generation_) schedule_tick();
      });
      return;
    }
    run_in_process(generation, "tick", [this] { node_->on_tick(); });
    if (generation == generation_) schedule_tick();
  });
}

void SimNode::on_write_queued() {
  if (!disk_scheduled_) schedule_disk();
}

void SimNode::schedule_disk() {
  disk_scheduled_ = true;
  const uint64_t generation = generation_;
  const uint64_t latency = rng_.between(options_.disk_latency_min_us, options_.disk_latency_max_us);
  scheduler_.schedule_after(latency, absl::StrCat("disk n", id_.value()), [this, generation] {
    if (generation != generation_) return;
    disk_scheduled_ = false;
    run_in_process(generation, "disk", [this] { run_disk(); });
  });
}

void SimNode::run_disk() {
  for (const storage::LogWriteCompletion& done : log_->process_queued_writes()) {
    scheduler_.note(done.id);
    node_->on_log_written(done.id, done.status);
  }
  // Writes submitted while these completed form the next group.
  if (log_->queued_writes() > 0 && !disk_scheduled_) schedule_disk();
}

void SimNode::deliver(raft::NodeMessage message) {
  run_in_process(generation_, "deliver", [this, m = std::move(message)]() mutable { node_->on_message(std::move(m)); });
}

void SimNode::run_turn(const char* what, absl::AnyInvocable<void(raft::Node&)> action) {
  run_in_process(generation_, what, [this, a = std::move(action)]() mutable { a(*node_); });
}

void SimNode::submit(raft::ClientRequest request, raft::ResponseCallback done) {
  if (!up()) {
    done(raft::ClientResponse{absl::UnavailableError(absl::StrCat("node ", id_.value(), " is down")), {}, {}, {}});
    return;
  }
  run_in_process(generation_, "request",
                 [this, r = std::move(request), d = std::move(done)]() mutable { node_->submit(std::move(r), std::move(d)); });
}

}  // namespace reef::sim
