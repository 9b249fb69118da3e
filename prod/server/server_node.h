// ServerNode: one production Raft node — the same raft::Node the simulator
// runs, wired to real adapters on one single-threaded io_context (the node
// loop):
//
//   storage   NodeStorage over PosixFileSystem in data_dir; log writes on a
//             storage thread (StorageThreadLog), completions back on the loop
//   transport AsioTransport (TCP, verified frames)
//   state     SqlStateMachine (SQLite on disk in data_dir/db, committed
//             once per loop turn, never synced on apply), queries on read
//             threads (ReadPool), snapshots to disk
//   time      OsClock (monotonic for ticks and deadlines, wall clock for
//             proposals), a steady_timer ticking the core every tick_ms
//
// Every event (tick, message, log completion, client request) is handed to
// the node on the loop; the node asks (its flush hook) for one flush per
// burst of events, posted behind them, so what arrived together is
// persisted together (group commit, raft/driver/node.h).
//
// Boot follows the seed documents: NodeStorage::open recovers (and reports
// what it repaired), the state machine is restored from the newest snapshot
// and committed entries after it are replayed (raft::Node::boot), then the
// node ticks and talks.
//
// Observability: the log's disk turns, the state machine's work (through
// TimedStateMachine) and the transport's round trips and connection trouble
// all report to one NodeObserver, which keeps NodeObservations and writes
// the log lines (prod/observe/node_observer.h); export_measurements() hands them,
// with the transport's counters, to /metrics.
//
// Identity: the data directory's identity (cluster, node id, incarnation)
// is checked or written at boot (storage/node_identity.h); the transport
// stamps the incarnation on everything it sends, and PeerIdentityGuard
// refuses peers that come back with a wiped directory and stops this node
// when a peer refuses it.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "absl/status/statusor.h"
#include "prod/disk/posix_file_system.h"
#include "prod/net/asio_transport.h"
#include "prod/observe/node_metrics.h"
#include "prod/observe/node_observer.h"
#include "prod/server/address_book.h"
#include "prod/server/background_thread.h"
#include "prod/server/os_clock.h"
#include "prod/server/peer_identity_guard.h"
#include "prod/server/read_pool.h"
#include "prod/server/storage_thread_log.h"
#include "prod/server/timed_state_machine.h"
#include "raft/driver/node.h"
#include "statemachine/sql_state_machine.h"
#include "storage/node_storage.h"

namespace reef::prod {

struct ServerNodeOptions {
  raft::NodeConfig node;  // core.id and core.seed set by the caller
  std::string data_dir;
  uint32_t tick_ms = 100;
  raft::Configuration initial_configuration;  // the configured cluster (empty: waits to be added)
  // The members' addresses as configured (static peers); the replicated
  // address book adds to and overrides them (prod/server/address_book.h).
  std::map<raft::NodeId, MemberAddresses> address_seeds;
  // Who this node is; its data directory must agree (storage/node_identity.h).
  // The transport carries the directory's incarnation.
  storage::IdentityClaim identity;
  // Non-empty when initial_configuration is this node alone only because
  // no peers were given, although the directory has met other members:
  // booting is then refused with this message if that configuration would
  // be in force, i.e. no snapshot and no configuration entry in the log
  // (the node would elect itself and diverge). A directory whose log or
  // snapshot holds the replicated configuration boots: the flag's
  // configuration is history there (a first node that grew the cluster).
  std::string refuse_bootstrap_alone;
  // The state machine's database in <data_dir>/db (docs/STATE_MACHINE.md,
  // "On-disk SQLite"); false keeps it in memory, rebuilt at every boot
  // (tests and benchmark baselines).
  bool database_on_disk = true;
  // Queries on read threads (the database on disk only; in memory they run
  // on the loop).
  ReadPoolOptions reads;
  AsioTransportOptions transport;
};

// The state machine's database lives in this directory of the data
// directory (statemachine/sql_database.h names its files).
inline constexpr const char* kDatabaseDir = "db";

class ServerNode {
 public:
  // Recovers, boots and starts ticking and listening. Errors: DATA_LOSS and
  // friends from recovery, UNAVAILABLE when the Raft address cannot be bound.
  static absl::StatusOr<std::unique_ptr<ServerNode>> start(boost::asio::io_context& loop,
                                                           ServerNodeOptions options);
  ~ServerNode();
  ServerNode(const ServerNode&) = delete;
  ServerNode& operator=(const ServerNode&) = delete;

  // On the loop. `done` runs exactly once, on the loop.
  void submit(raft::ClientRequest request, raft::ResponseCallback done);
  void transfer_leadership(raft::NodeId target);
  // raft::Node::handover_target / snapshot_now, on the loop.
  std::optional<raft::NodeId> handover_target() const { return node_->handover_target(); }
  absl::StatusOr<raft::SnapshotTaken> snapshot_now();
  // Stops ticking and closes the transport; requests still waiting fail.
  void stop();

  raft::NodeStatus status() const { return node_->status(); }
  // The core's view (configuration, leader-side progress), on the loop.
  const raft::Core& core() const { return node_->core(); }
  raft::NodeId id() const { return node_->id(); }
  // The data directory held no Raft state at boot (no term, entry or
  // snapshot): a node that never took part in a cluster.
  bool booted_fresh() const { return booted_fresh_; }
  const AddressBook& addresses() const { return addresses_; }
  // Addresses learned outside the log (a joiner hears the members' from the
  // node that added it, before it can apply their rows): seeded and dialed.
  void learn_addresses(const std::map<raft::NodeId, MemberAddresses>& seeds);
  const raft::Clock& clock() const { return clock_; }
  uint16_t raft_port() const { return transport_->listen_port(); }
  const AsioTransportStats& transport_stats() const { return transport_->stats(); }
  // What recovery repaired or noticed at boot, one line each.
  const std::vector<std::string>& recovery_notes() const { return recovery_notes_; }
  // This data directory's identity (storage/node_identity.h).
  const storage::NodeIdentity& identity() const { return *storage_->identity(); }
  // Peers this node refuses and peers that refuse it (prod/server/peer_identity_guard.h).
  const PeerIdentityGuard& peer_identity() const { return *peer_identity_; }
  // A peer refuses this node (its data directory was wiped): the node has
  // stopped itself and its owner should exit.
  bool refused_by_peer() const { return !peer_identity_->refused_by_peers().empty(); }
  uint64_t log_syncs() const { return log_->groups_written(); }
  // What the node measured (disk, snapshots, applies, round trips) and the
  // transport's counters, into `metrics` (on the loop, before rendering).
  void export_measurements(NodeMetrics& metrics) const;

 private:
  ServerNode(boost::asio::io_context& loop, uint32_t tick_ms);
  absl::Status boot(ServerNodeOptions options);
  void schedule_tick();
  void post_flush();
  void report_stop();
  void refresh_addresses();

  boost::asio::io_context& loop_;
  const uint32_t tick_ms_;
  boost::asio::steady_timer tick_timer_;
  OsClock clock_;
  PosixFileSystem fs_;
  NodeObserver observer_;  // before everything that reports to it
  std::unique_ptr<storage::NodeStorage> storage_;
  std::unique_ptr<statemachine::SqlStateMachine> state_machine_;
  std::unique_ptr<TimedStateMachine> timed_state_machine_;
  std::unique_ptr<ReadPool> read_pool_;  // on disk: the node's port onto timed_state_machine_
  std::unique_ptr<BackgroundThread> background_;  // writes policy snapshots
  std::unique_ptr<PeerIdentityGuard> peer_identity_;
  std::unique_ptr<AsioTransport> transport_;
  std::unique_ptr<StorageThreadLog> log_;
  std::unique_ptr<raft::Node> node_;
  std::vector<std::string> recovery_notes_;
  bool stop_reported_ = false;
  AddressBook addresses_;
  uint64_t address_changes_seen_ = 0;
  bool booted_fresh_ = false;
  static constexpr uint64_t kConnectPeersEveryMs = 1000;
  uint64_t ticks_ = 0;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace reef::prod
