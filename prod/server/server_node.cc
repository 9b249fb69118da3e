#include "prod/server/server_node.h"

#include <algorithm>
#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace reef::prod {
namespace {

// The configuration in force after boot is the one the caller passed as the
// initial configuration: nothing durable replaced it yet.
bool configuration_from_bootstrap(const raft::RecoveredState& recovered) {
  return recovered.snapshot.index == raft::Index(0) &&
         std::none_of(recovered.entries.begin(), recovered.entries.end(),
                      [](const raft::LogEntry& e) { return e.type == raft::EntryType::kConfiguration; });
}

}  // namespace

absl::StatusOr<std::unique_ptr<ServerNode>> ServerNode::start(boost::asio::io_context& loop,
                                                              ServerNodeOptions options) {
  std::unique_ptr<ServerNode> server(new ServerNode(loop, options.tick_ms));
  if (absl::Status status = server->boot(std::move(options)); !status.ok()) return status;
  return server;
}

ServerNode::ServerNode(boost::asio::io_context& loop, uint32_t tick_ms)
    : loop_(loop), tick_ms_(tick_ms), tick_timer_(loop) {}

ServerNode::~ServerNode() {
  stop();
  *alive_ = false;
  background_.reset();  // lets a snapshot being written finish; its compaction is dropped
  read_pool_.reset();  // joins the read threads; their answers are dropped
  log_.reset();  // joins the storage thread before the node and storage go
  node_.reset();
}

absl::Status ServerNode::boot(ServerNodeOptions options) {
  storage::NodeStorageOptions storage_options;
  storage_options.identity = options.identity;
  absl::StatusOr<std::unique_ptr<storage::NodeStorage>> storage =
      storage::NodeStorage::open(fs_, options.data_dir, std::move(storage_options));
  if (!storage.ok()) {
    return absl::Status(storage.status().code(),
                        absl::StrCat("recovering ", options.data_dir, ": ", storage.status().message()));
  }
  storage_ = *std::move(storage);
  recovery_notes_ = storage_->recovery().notes;
  absl::StatusOr<std::unique_ptr<storage::PeerIncarnations>> peers =
      storage::PeerIncarnations::open(fs_, options.data_dir);
  if (!peers.ok()) return peers.status();
  peer_identity_ = std::make_unique<PeerIdentityGuard>(*std::move(peers), options.data_dir);
  options.transport.incarnation = storage_->identity()->incarnation;

  statemachine::SqlStateMachineOptions sql_options;
  sql_options.on_leader_clock_behind = [this](int64_t leader_wall_ms, int64_t applied_ms) {
    observer_.leader_clock_behind(leader_wall_ms, applied_ms);
  };
  sql_options.checkpoint_in_background = true;  // never on the loop
  // On disk (the default), a restart reopens the database where it was;
  // in memory, it is rebuilt from the newest snapshot and the log.
  absl::StatusOr<std::unique_ptr<statemachine::SqlStateMachine>> sql =
      options.database_on_disk
          ? statemachine::SqlStateMachine::open(std::move(sql_options), fs_,
                                                storage::join_path(options.data_dir, kDatabaseDir))
          : statemachine::SqlStateMachine::create(std::move(sql_options));
  if (!sql.ok()) return sql.status();
  state_machine_ = *std::move(sql);
  if (!state_machine_->recovery_note().empty()) recovery_notes_.push_back(state_machine_->recovery_note());

  const std::weak_ptr<bool> alive = alive_;
  absl::StatusOr<std::unique_ptr<AsioTransport>> transport = AsioTransport::create(
      loop_, options.transport,
      [this, alive](raft::NodeMessage message) {
        if (alive.expired() || node_ == nullptr) return;  // still booting: Raft retransmits
        node_->on_message(std::move(message));
      },
      [this, alive](raft::NodeId peer) {
        if (alive.expired() || node_ == nullptr) return;
        node_->on_peer_unreachable(peer);
      });
  if (!transport.ok()) return transport.status();
  transport_ = *std::move(transport);
  transport_->set_observer(&observer_);
  transport_->set_sender_check(
      [this](raft::NodeId peer, uint64_t incarnation) { return peer_identity_->admit(peer, incarnation); });
  transport_->set_refused_handler([this, alive](raft::NodeId peer) {
    if (alive.expired()) return;
    peer_identity_->refused_by(peer);
    // Not from inside the transport's handler: stop() closes its connections.
    boost::asio::post(loop_, [this, alive] {
      if (!alive.expired()) stop();
    });
  });

  StorageThreadLogHooks hooks;
  hooks.on_turn = [this](const LogWriteTiming& timing) { observer_.log_written(timing); };
  hooks.on_snapshot_stored = [this](const raft::SnapshotMeta& meta, uint64_t bytes) {
    observer_.snapshot_stored(meta, bytes);
  };
  log_ = std::make_unique<StorageThreadLog>(
      *storage_, loop_,
      [this](uint64_t id, absl::Status status) {
        node_->on_log_written(id, std::move(status));
      },
      std::move(hooks));

  timed_state_machine_ = std::make_unique<TimedStateMachine>(*state_machine_, observer_);
  raft::StateMachine* port = timed_state_machine_.get();
  if (options.database_on_disk) {
    read_pool_ = std::make_unique<ReadPool>(
        *timed_state_machine_, [machine = state_machine_.get()] { return machine->open_reader(); }, loop_,
        options.reads);
    port = read_pool_.get();
  }
  background_ = std::make_unique<BackgroundThread>(loop_);
  raft::NodePorts ports{log_.get(), transport_.get(), port, &clock_, background_.get()};
  raft::RecoveredState recovered = storage_->recovered_state(options.initial_configuration);
  if (!options.refuse_bootstrap_alone.empty() && configuration_from_bootstrap(recovered)) {
    return absl::FailedPreconditionError(options.refuse_bootstrap_alone);
  }
  booted_fresh_ = recovered.hard_state.term == raft::Term(0) && recovered.entries.empty() &&
                  recovered.snapshot.index == raft::Index(0);
  for (auto& [id, addresses] : options.address_seeds) addresses_.seed(id, std::move(addresses));
  absl::StatusOr<std::unique_ptr<raft::Node>> node =
      raft::Node::boot(std::move(options.node), ports, std::move(recovered));
  storage_->release_recovered_entries();
  if (!node.ok()) return node.status();
  node_ = *std::move(node);
  node_->set_flush_hook([this] { post_flush(); });
  timed_state_machine_->finish_batch();  // the replay
  refresh_addresses();
  observer_.boot_finished();
  transport_->connect_idle_peers();
  schedule_tick();
  return absl::OkStatus();
}

void ServerNode::schedule_tick() {
  if (stopped_) return;
  tick_timer_.expires_after(std::chrono::milliseconds(tick_ms_));
  tick_timer_.async_wait([this, alive = std::weak_ptr<bool>(alive_)](const boost::system::error_code& error) {
    if (error || alive.expired() || stopped_) return;
    node_->on_tick();
    // About once a second: peers this node has no reason to message (a
    // follower's fellow followers) still get its probes and incarnation.
    if (++ticks_ % std::max<uint64_t>(1, kConnectPeersEveryMs / tick_ms_) == 0) transport_->connect_idle_peers();
    schedule_tick();
  });
}

// The node's flush hook: the first event of a turn asks for a flush (every
// later one finds it asked for, raft/driver/node.h). Events that are already
// queued on the loop run before the posted flush, so a burst of them
// becomes one flush: one log write, one sync.
void ServerNode::post_flush() {
  boost::asio::post(loop_, [this, alive = std::weak_ptr<bool>(alive_)] {
    if (alive.expired()) return;
    node_->flush();
    timed_state_machine_->finish_batch();
    refresh_addresses();
    report_stop();
  });
}

// A node that stopped itself (a failed disk write, a state machine it can
// no longer trust) answers UNAVAILABLE to everything until restarted: the
// operator must learn why from the log, once.
void ServerNode::report_stop() {
  if (stop_reported_ || !node_->stopped()) return;
  stop_reported_ = true;
  spdlog::error("node {} stopped: {}; restart it to recover from what is durable", node_->id().value(),
                node_->stop_reason().ToString());
}

void ServerNode::learn_addresses(const std::map<raft::NodeId, MemberAddresses>& seeds) {
  for (const auto& [id, addresses] : seeds) {
    if (id == node_->id() || addresses_.replicated(id) || addresses.raft_address.empty()) continue;
    addresses_.seed(id, addresses);
    if (absl::Status set = transport_->set_peer(id, addresses.raft_address); !set.ok()) {
      spdlog::warn("node {}: raft address {}: {}", id.value(), addresses.raft_address, set.ToString());
    }
  }
}

// After apply: when an address batch or a snapshot may have changed the
// replicated address book, re-read it and point the transport at the
// members whose Raft address moved or became known.
void ServerNode::refresh_addresses() {
  if (state_machine_->address_changes() == address_changes_seen_) return;
  address_changes_seen_ = state_machine_->address_changes();
  absl::StatusOr<std::vector<statemachine::NodeAddress>> rows = state_machine_->node_addresses();
  if (!rows.ok()) {
    spdlog::error("reading the replicated address book: {}", rows.status().ToString());
    return;
  }
  for (raft::NodeId id : addresses_.update_from(*rows)) {
    if (id == node_->id()) continue;
    const std::optional<MemberAddresses> found = addresses_.find(id);
    if (absl::Status set = transport_->set_peer(id, found->raft_address); !set.ok()) {
      spdlog::warn("node {}: raft address {}: {}", id.value(), found->raft_address, set.ToString());
    } else {
      spdlog::info("node {} is at raft {} / http {}", id.value(), found->raft_address, found->http_address);
    }
  }
}

void ServerNode::export_measurements(NodeMetrics& metrics) const {
  metrics.update_from(observer_.observations());
  metrics.update_from(transport_->stats());
}

void ServerNode::submit(raft::ClientRequest request, raft::ResponseCallback done) {
  node_->submit(std::move(request), std::move(done));
}

void ServerNode::transfer_leadership(raft::NodeId target) {
  node_->transfer_leadership(target);
}

absl::StatusOr<raft::SnapshotTaken> ServerNode::snapshot_now() {
  return node_->snapshot_now();
}

void ServerNode::stop() {
  if (stopped_) return;
  stopped_ = true;
  tick_timer_.cancel();
  if (transport_ != nullptr) transport_->stop();
}

}  // namespace reef::prod
