// The node driver (raft::Node) running for real inside the simulator: real
// storage over SimFileSystem, the simulated network and clocks, and a small
// key-value state machine so these tests are about the driver, not SQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "sim/sim_cluster.h"
#include "tests/raft/driver/kv_state_machine.h"

namespace reef::sim {
namespace {

using raft::ClientRequest;
using raft::ClientResponse;
using raft::Index;
using raft::NodeId;
using raft::RequestKind;
using ::testing::HasSubstr;

constexpr uint64_t kSecondUs = 1000000;

SimClusterOptions small_cluster(uint64_t seed = 7) {
  SimClusterOptions options;
  options.seed = seed;
  options.nodes = 3;
  options.node.tick_ms = 10;
  options.node.node.core.election_timeout_ticks = 10;
  options.node.node.core.heartbeat_interval_ticks = 2;
  options.node.storage.log.segment_bytes = 4096;
  return options;
}

class NodeDriverTest : public ::testing::Test {
 protected:
  // `durable`: each node's state machine persists (KvStateMachine::Disk,
  // kept in disks_ across restarts) instead of starting empty at each boot.
  void boot(SimClusterOptions options = small_cluster(), bool durable = false) {
    cluster_ = std::make_unique<SimCluster>(
        options,
        [this, durable](raft::NodeId id, storage::FileSystem&,
                        const std::string&) -> absl::StatusOr<std::unique_ptr<raft::StateMachine>> {
          if (!durable) return std::make_unique<testing::KvStateMachine>();
          std::shared_ptr<testing::KvStateMachine::Disk>& disk = disks_[id];
          if (disk == nullptr) disk = std::make_shared<testing::KvStateMachine::Disk>();
          return std::make_unique<testing::KvStateMachine>(disk);
        });
    ASSERT_TRUE(cluster_->start_all());
    // Until every node knows the leader (followers learn it from its first append).
    ASSERT_TRUE(cluster_->run_until(
        [&] {
          SimNode* leader = cluster_->leader();
          if (leader == nullptr) return false;
          for (auto& n : cluster_->nodes()) {
            if (n->node()->core().leader() != leader->id()) return false;
          }
          return true;
        },
        5 * kSecondUs));
  }

  // Submits to `node` and runs the world until the answer arrives.
  std::optional<ClientResponse> call(NodeId node, RequestKind kind, std::string payload, Index min_applied = Index(0),
                                     uint64_t timeout_us = 5 * kSecondUs) {
    std::optional<ClientResponse> response;
    ClientRequest request{kind, std::move(payload), min_applied,
                          cluster_->node(node).clock().now_ms() + timeout_us / 1000};
    cluster_->node(node).submit(std::move(request), [&](ClientResponse r) { response = std::move(r); });
    cluster_->run_until([&] { return response.has_value(); }, timeout_us + kSecondUs);
    return response;
  }

  // A level-none read of `key` on `node` with a freshness bound.
  std::optional<ClientResponse> read_fresh(NodeId node, std::string key, raft::FreshnessBound bound) {
    std::optional<ClientResponse> response;
    ClientRequest request{RequestKind::kReadNone, std::move(key), Index(0),
                          cluster_->node(node).clock().now_ms() + 5000, bound};
    cluster_->node(node).submit(std::move(request), [&](ClientResponse r) { response = std::move(r); });
    cluster_->run_until([&] { return response.has_value(); }, 6 * kSecondUs);
    return response;
  }
  void run_for(uint64_t us) { cluster_->run_until([] { return false; }, us); }

  // Writes n=0..19 through the leader, waits until every node applied them,
  // then crashes and restarts a follower (`victim`); `applied` is the index
  // of the last write.
  void write_n_then_restart_a_follower(NodeId* victim, Index* applied) {
    ASSERT_NO_FATAL_FAILURE(write_n_everywhere(20, applied));
    *victim = follower_id();
    cluster_->node(*victim).crash();
    ASSERT_TRUE(cluster_->node(*victim).start().ok());
  }

  // Writes n=0..count-1 through the leader and waits until every node
  // applied them; `applied` is the index of the last write.
  void write_n_everywhere(int count, Index* applied) {
    for (int i = 0; i < count; ++i) {
      std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "n=" + std::to_string(i));
      ASSERT_TRUE(r.has_value() && r->status.ok());
    }
    *applied = cluster_->node(leader_id()).node()->status().applied;
    ASSERT_TRUE(cluster_->run_until([&] { return all_applied(*applied); }, kSecondUs));
  }

  NodeId leader_id() { return cluster_->leader()->id(); }
  NodeId follower_id() { return leader_id() == NodeId(1) ? NodeId(2) : NodeId(1); }
  testing::KvStateMachine& kv(NodeId id) {
    return *static_cast<testing::KvStateMachine*>(cluster_->node(id).state_machine());
  }
  bool all_applied(Index index) {
    for (auto& n : cluster_->nodes()) {
      if (!n->running() || n->node()->status().applied < index) return false;
    }
    return true;
  }

  std::map<NodeId, std::shared_ptr<testing::KvStateMachine::Disk>> disks_;
  std::unique_ptr<SimCluster> cluster_;
};

TEST_F(NodeDriverTest, WriteOnTheLeaderIsAnsweredAfterApplyAndReachesEveryNode) {
  boot();
  std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "x=1");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->status.ok()) << r->status;
  EXPECT_EQ(r->response, "");  // previous value
  EXPECT_GT(r->applied, Index(0));
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(r->applied); }, kSecondUs));
  for (NodeId id : cluster_->ids()) EXPECT_EQ(kv(id).data().at("x"), "1") << "node " << id.value();

  std::optional<ClientResponse> second = call(leader_id(), RequestKind::kWrite, "x=2");
  ASSERT_TRUE(second.has_value() && second->status.ok());
  EXPECT_EQ(second->response, "1");
}

TEST_F(NodeDriverTest, FollowerForwardsWritesToTheLeader) {
  boot();
  std::optional<ClientResponse> r = call(follower_id(), RequestKind::kWrite, "k=v");
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->status.ok()) << r->status;
  EXPECT_EQ(kv(leader_id()).data().at("k"), "v");
}

// A membership change is a request like a write: a follower forwards it, the
// leader answers once the configuration entry is applied, with the
// configuration it produced; a refusal comes back with the core's reason.
TEST_F(NodeDriverTest, FollowerForwardsAMembershipChangeAndIsAnsweredWithTheNewConfiguration) {
  boot();
  const NodeId follower = follower_id();
  NodeId other = NodeId(0);
  for (NodeId id : cluster_->ids()) {
    if (id != follower && id != leader_id()) other = id;
  }
  auto change = [&](std::vector<raft::MembershipChange> steps) {
    std::optional<ClientResponse> response;
    ClientRequest request{RequestKind::kMembershipChange, "", Index(0), cluster_->node(follower).clock().now_ms() + 5000,
                          std::nullopt, std::move(steps)};
    cluster_->node(follower).submit(std::move(request), [&](ClientResponse r) { response = std::move(r); });
    cluster_->run_until([&] { return response.has_value(); }, 6 * kSecondUs);
    return response;
  };
  std::optional<ClientResponse> demoted = change({{raft::MembershipOp::kAddLearner, other}});
  ASSERT_TRUE(demoted.has_value());
  ASSERT_TRUE(demoted->status.ok()) << demoted->status;
  const raft::Configuration expected =
      raft::Configuration::of_voters({leader_id(), follower}, {other});
  EXPECT_EQ(demoted->response, expected.describe());
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(demoted->applied); }, kSecondUs));
  for (NodeId id : cluster_->ids()) EXPECT_EQ(cluster_->node(id).node()->core().configuration(), expected);

  std::optional<ClientResponse> unknown = change({{raft::MembershipOp::kRemove, NodeId(9)}});
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status.code(), absl::StatusCode::kNotFound) << unknown->status;
  EXPECT_THAT(std::string(unknown->status.message()), HasSubstr("node 9 is not a member"));
}

// A node that joins catches up through the log from index 1 while the
// leader has compacted nothing; the entries before its own configuration
// entry carry no configuration (the first members had theirs from their
// bootstrap). It must not snapshot there: a snapshot recording an empty
// configuration could never be booted from.
TEST_F(NodeDriverTest, AJoiningNodeSnapshotsOnlyOnceItAppliedAConfiguration) {
  SimClusterOptions options = small_cluster();
  options.node.node.core.max_entries_per_message = 2;  // the joiner applies two at a time
  boot(options);
  for (int i = 0; i < 6; ++i) {
    std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "n=" + std::to_string(i));
    ASSERT_TRUE(r.has_value() && r->status.ok());
  }
  ASSERT_EQ(cluster_->node(leader_id()).node()->core().log().snapshot().index, Index(0));
  // The joiner alone snapshots after every two applies.
  SimNode& joiner = cluster_->add_node([](SimNodeOptions& o) { o.node.snapshot.entries = 2; });
  std::optional<ClientResponse> added;
  ClientRequest request{RequestKind::kMembershipChange, "", Index(0),
                        cluster_->node(leader_id()).clock().now_ms() + 5000, std::nullopt,
                        {{raft::MembershipOp::kAddLearner, joiner.id()}}};
  cluster_->node(leader_id()).submit(std::move(request), [&](ClientResponse r) { added = std::move(r); });
  ASSERT_TRUE(cluster_->run_until([&] { return added.has_value(); }, 6 * kSecondUs));
  ASSERT_TRUE(added->status.ok()) << added->status;
  ASSERT_TRUE(cluster_->run_until([&] { return joiner.node()->status().applied >= added->applied; }, 5 * kSecondUs));
  const raft::SnapshotMeta& snapshot = joiner.node()->core().log().snapshot();
  EXPECT_GT(snapshot.index, Index(0)) << "the joiner took snapshots";
  EXPECT_FALSE(snapshot.configuration.empty()) << "snapshot at " << snapshot.index.value() << " records no configuration";
  // And it boots again from what it holds.
  joiner.crash();
  ASSERT_TRUE(joiner.start().ok());
  EXPECT_TRUE(joiner.node()->core().configuration().is_learner(joiner.id()));
}

TEST_F(NodeDriverTest, FollowerWithoutForwardingAnswersNotLeaderWithTheHint) {
  SimClusterOptions options = small_cluster();
  options.node.node.forward_to_leader = false;
  boot(options);
  std::optional<ClientResponse> r = call(follower_id(), RequestKind::kWrite, "k=v");
  ASSERT_TRUE(r.has_value());
  EXPECT_TRUE(raft::is_not_leader(r->status)) << r->status;
  ASSERT_TRUE(r->leader_hint.has_value());
  EXPECT_EQ(*r->leader_hint, leader_id());
}

TEST_F(NodeDriverTest, ReadsAtEveryLevelSeeAnAcknowledgedWrite) {
  boot();
  std::optional<ClientResponse> w = call(leader_id(), RequestKind::kWrite, "color=blue");
  ASSERT_TRUE(w.has_value() && w->status.ok());
  // Linearizable reads work on followers too (ReadIndex through the leader).
  for (NodeId id : cluster_->ids()) {
    std::optional<ClientResponse> r = call(id, RequestKind::kReadLinearizable, "color");
    ASSERT_TRUE(r.has_value());
    ASSERT_TRUE(r->status.ok()) << "node " << id.value() << ": " << r->status;
    EXPECT_EQ(r->response, "blue") << "node " << id.value();
    // Read your writes on any node, even at level none.
    std::optional<ClientResponse> local = call(id, RequestKind::kReadNone, "color", w->applied);
    ASSERT_TRUE(local.has_value() && local->status.ok());
    EXPECT_EQ(local->response, "blue");
    EXPECT_GE(local->applied, w->applied);
  }
  std::optional<ClientResponse> weak = call(follower_id(), RequestKind::kReadWeak, "color");
  ASSERT_TRUE(weak.has_value() && weak->status.ok()) << weak->status;
  EXPECT_EQ(weak->response, "blue");
  // A strong read puts a barrier through the log (forwarded to the leader)
  // and is answered by a query once that is applied: past the write.
  std::optional<ClientResponse> strong = call(follower_id(), RequestKind::kReadStrong, "color");
  ASSERT_TRUE(strong.has_value() && strong->status.ok()) << strong->status;
  EXPECT_EQ(strong->response, "blue");
  EXPECT_GT(strong->applied, w->applied);
}

TEST_F(NodeDriverTest, AStrongReadIsABarrierEntryNotTheQuery) {
  boot();
  ASSERT_TRUE(call(leader_id(), RequestKind::kWrite, "color=blue").has_value());
  const NodeId leader = leader_id();
  const Index before = cluster_->node(leader).node()->status().last_index;
  std::optional<ClientResponse> strong = call(leader, RequestKind::kReadStrong, "color");
  ASSERT_TRUE(strong.has_value() && strong->status.ok()) << strong->status;
  EXPECT_EQ(strong->response, "blue");
  const Index barrier = before.next();
  ASSERT_GE(strong->applied, barrier);
  const raft::LogEntry& entry = cluster_->node(leader).node()->core().log().at(barrier);
  EXPECT_EQ(entry.type, raft::EntryType::kNoop);
  EXPECT_TRUE(entry.payload.empty());
  // A minimum applied index past the barrier is waited for too.
  std::optional<ClientResponse> ahead =
      call(leader, RequestKind::kReadStrong, "color", strong->applied + 100, kSecondUs / 2);
  ASSERT_TRUE(ahead.has_value());
  EXPECT_EQ(ahead->status.code(), absl::StatusCode::kDeadlineExceeded) << ahead->status;
}

TEST_F(NodeDriverTest, WriteWithoutAQuorumTimesOutWithUnknownOutcome) {
  boot();
  const NodeId leader = leader_id();
  cluster_->network().isolate(leader, cluster_->ids());
  std::optional<ClientResponse> r = call(leader, RequestKind::kWrite, "lost=maybe", Index(0), kSecondUs / 2);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status.code(), absl::StatusCode::kDeadlineExceeded) << r->status;
  EXPECT_THAT(std::string(r->status.message()), HasSubstr("may or may not"));
}

TEST_F(NodeDriverTest, RestartedNodeReplaysItsLogFromDisk) {
  SimClusterOptions options = small_cluster();
  options.node.node.core.commit_persist_interval_ticks = 0;  // every commit durable: replay reaches the last
  boot(options);
  NodeId victim;
  Index applied;
  ASSERT_NO_FATAL_FAILURE(write_n_then_restart_a_follower(&victim, &applied));
  // Before any message arrives, the node has replayed what it had committed.
  EXPECT_EQ(kv(victim).data().at("n"), "19");
}

// A persistent state machine reopens where it was: the log it already
// reflects is not replayed (Node::boot keeps it because the recovered log
// still holds its position).
TEST_F(NodeDriverTest, ADurableStateMachineReopensWhereItWasAndReplaysNothing) {
  SimClusterOptions options = small_cluster();
  options.node.node.core.commit_persist_interval_ticks = 0;
  boot(options, /*durable=*/true);
  NodeId victim;
  Index applied;
  ASSERT_NO_FATAL_FAILURE(write_n_then_restart_a_follower(&victim, &applied));
  EXPECT_EQ(cluster_->node(victim).node()->status().applied, applied);
  EXPECT_EQ(kv(victim).applied_count(), 0u) << "nothing replayed";
  EXPECT_EQ(kv(victim).data().at("n"), "19");
}

// A persistent state machine whose position the log no longer reaches (its
// disk holds an older state, the log was compacted past it) is replaced by
// the newest snapshot, never used.
TEST_F(NodeDriverTest, ADurableStateMachineTheLogNoLongerReachesIsReplacedByTheSnapshot) {
  boot(small_cluster(), /*durable=*/true);
  Index applied;
  ASSERT_NO_FATAL_FAILURE(write_n_everywhere(10, &applied));
  const NodeId follower = follower_id();
  ASSERT_TRUE(cluster_->node(follower).node()->snapshot_now().ok());
  run_for(kSecondUs / 10);
  cluster_->node(follower).crash();
  // What an older state of the disk would say: the log starts after it now.
  const raft::Term term = cluster_->node(leader_id()).node()->status().term;
  *disks_[follower] = testing::KvStateMachine::Disk{{{"n", "3"}}, raft::AppliedPosition{Index(3), term}};
  ASSERT_TRUE(cluster_->node(follower).start().ok());
  EXPECT_EQ(cluster_->node(follower).node()->status().applied, applied) << "restored from the snapshot";
  EXPECT_EQ(kv(follower).data().at("n"), "9");
}

// By default a commit that alone moved is made durable once per interval
// (raft/core/config.h): boot replays up to the durable commit, and the rest
// arrives with the leader's next append or heartbeat.
TEST_F(NodeDriverTest, RestartedNodeReplaysTheDurableCommitThenCatchesUp) {
  SimClusterOptions options = small_cluster();
  options.node.node.core.commit_persist_interval_ticks = 100000;  // only the election's hard state
  boot(options);
  NodeId victim;
  Index applied;
  ASSERT_NO_FATAL_FAILURE(write_n_then_restart_a_follower(&victim, &applied));
  EXPECT_EQ(cluster_->node(victim).node()->status().last_index, applied) << "the log is all there";
  EXPECT_LT(cluster_->node(victim).node()->status().applied, applied) << "replayed only the durable commit";
  EXPECT_FALSE(kv(victim).data().contains("n"));
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(applied); }, kSecondUs));
  EXPECT_EQ(kv(victim).data().at("n"), "19");
}

// A follower that already applied past the leader's snapshot, while the
// leader, missing its acknowledgements, believes it is behind: the leader
// sends the snapshot; the follower has no use for it and must say how far
// its log goes, or the leader sends the same snapshot forever and the
// follower never sees another entry.
TEST_F(NodeDriverTest, FollowerAheadOfTheLeadersSnapshotTellsItsCommitInsteadOfInstalling) {
  SimClusterOptions options = small_cluster();
  // A fixed latency keeps messages in order, so the leader's progress for
  // the follower stays optimistic (replicate) while its acks are lost.
  options.network.latency_min_us = options.network.latency_max_us = 1000;
  boot(options);
  const NodeId leader = leader_id();
  const NodeId ahead = follower_id();
  auto write = [&](const std::string& payload) {
    std::optional<ClientResponse> r = call(leader, RequestKind::kWrite, payload);
    EXPECT_TRUE(r.has_value() && r->status.ok()) << (r ? r->status.ToString() : "no answer");
    return r.has_value() ? r->applied : Index(0);
  };
  write("a=0");  // acknowledged: the leader replicates to `ahead` optimistically
  bool drop_acks = true;
  cluster_->network().set_observer([&](const raft::NodeMessage& m) {
    const auto* core_message = std::get_if<raft::Message>(&m.body);
    return !(drop_acks && m.from == ahead && core_message != nullptr &&
             std::holds_alternative<raft::AppendResponse>(core_message->body));
  });
  Index written;
  for (int i = 1; i <= 10; ++i) written = write(absl::StrCat("a=", i));
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(written); }, kSecondUs));
  ASSERT_TRUE(cluster_->node(leader).node()->snapshot_now().ok());
  const raft::Progress* progress = cluster_->node(leader).node()->core().progress(ahead);
  ASSERT_NE(progress, nullptr);
  ASSERT_LT(progress->match(), cluster_->node(leader).node()->core().log().snapshot().index)
      << "the leader must think the follower is behind its snapshot";

  drop_acks = false;
  // The driver reports the peer unreachable: the leader probes from the
  // match it knows, which it compacted, so it ships the snapshot.
  cluster_->node(leader).run_turn("unreachable", [&](raft::Node& node) { node.on_peer_unreachable(ahead); });
  run_for(kSecondUs / 2);
  EXPECT_GE(cluster_->node(leader).node()->core().progress(ahead)->match(), written);
  const Index after = write("after=1");
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(after); }, kSecondUs))
      << "the follower never got another entry";
  EXPECT_EQ(kv(ahead).data(), kv(leader).data());
}

TEST_F(NodeDriverTest, LaggingFollowerCatchesUpThroughASnapshot) {
  SimClusterOptions options = small_cluster();
  options.node.node.snapshot.entries = 8;
  boot(options);
  const NodeId lagging = follower_id();
  cluster_->network().isolate(lagging, cluster_->ids());
  for (int i = 0; i < 40; ++i) {
    // StrCat: g++ 12 -O3 warns falsely (-Wrestrict) on chained string +.
    std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, absl::StrCat("k", i % 5, "=", i));
    ASSERT_TRUE(r.has_value() && r->status.ok()) << (r ? r->status.ToString() : "no answer");
  }
  const NodeId leader = leader_id();
  EXPECT_GT(cluster_->node(leader).node()->status().snapshot_index, Index(8));
  cluster_->network().heal();
  const Index target = cluster_->node(leader).node()->status().applied;
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(target); }, 5 * kSecondUs));
  EXPECT_GT(cluster_->node(lagging).node()->status().snapshot_index, Index(0)) << "caught up without a snapshot?";
  EXPECT_EQ(kv(lagging).data(), kv(leader).data());
  // And it survives a restart from the installed snapshot (and catches up
  // past its durable commit).
  cluster_->node(lagging).crash();
  ASSERT_TRUE(cluster_->node(lagging).start().ok());
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(target); }, 5 * kSecondUs));
  EXPECT_EQ(kv(lagging).data(), kv(leader).data());
}

// A Background that holds its jobs until the test runs them: the work a
// production thread would do while the loop goes on.
class HeldBackground final : public raft::Background {
 public:
  void run(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> then) override {
    jobs_.push_back({std::move(work), std::move(then)});
  }
  size_t held() const { return jobs_.size(); }
  void run_all() {
    while (!jobs_.empty()) {
      auto job = std::move(jobs_.front());
      jobs_.erase(jobs_.begin());
      job.first();
      job.second();
    }
  }

 private:
  std::vector<std::pair<absl::AnyInvocable<void()>, absl::AnyInvocable<void()>>> jobs_;
};

// A policy snapshot is written off the loop: while it is, the node goes on
// applying and answering, takes no second one, refuses an operator's, and
// compacts nothing; once written, the log is compacted to it.
TEST_F(NodeDriverTest, APolicySnapshotIsWrittenOffTheLoopAndCompactsWhenStored) {
  HeldBackground background;
  SimClusterOptions options = small_cluster();
  options.node.node.snapshot.entries = 8;
  options.node.background = &background;
  boot(options);
  const NodeId leader = leader_id();
  raft::Node& node = *cluster_->node(leader).node();
  for (int i = 0; i < 10; ++i) {
    std::optional<ClientResponse> r = call(leader, RequestKind::kWrite, absl::StrCat("k", i, "=", i));
    ASSERT_TRUE(r.has_value() && r->status.ok()) << (r ? r->status.ToString() : "no answer");
  }
  // One snapshot per node (the three share this background).
  ASSERT_EQ(background.held(), 3u) << "no snapshot was handed to the background";
  for (int i = 10; i < 30; ++i) {
    std::optional<ClientResponse> r = call(leader, RequestKind::kWrite, absl::StrCat("k", i, "=", i));
    ASSERT_TRUE(r.has_value() && r->status.ok()) << "a write waited for the snapshot being written";
  }
  EXPECT_EQ(background.held(), 3u) << "a second snapshot started while one was in flight";
  EXPECT_EQ(node.status().snapshot_index, Index(0)) << "compacted before the snapshot was stored";
  EXPECT_EQ(node.snapshot_now().status().code(), absl::StatusCode::kUnavailable);
  background.run_all();
  run_for(kSecondUs / 10);
  EXPECT_GE(node.status().snapshot_index, Index(8));
  EXPECT_LT(node.status().snapshot_index, node.status().applied) << "the snapshot is of the state when it began";
  EXPECT_EQ(node.core().log().snapshot().index, node.status().snapshot_index);
  EXPECT_FALSE(node.stopped()) << node.stop_reason();
  // The next one starts at once (the writes since exceed the policy).
  std::optional<ClientResponse> r = call(leader, RequestKind::kWrite, "k=last");
  ASSERT_TRUE(r.has_value() && r->status.ok());
  EXPECT_GE(background.held(), 1u);
  background.run_all();
}

TEST_F(NodeDriverTest, DiskThatFailsEverySyncStopsTheNodeCleanly) {
  boot();
  const NodeId victim = follower_id();
  cluster_->node(victim).fs().set_faults(SimFaults{.sync_error_per_million = 1000000});
  std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "a=b");
  ASSERT_TRUE(r.has_value() && r->status.ok()) << "the other two are a quorum";
  ASSERT_TRUE(cluster_->run_until([&] { return !cluster_->node(victim).running(); }, kSecondUs));
  const raft::Node* stopped = cluster_->node(victim).node();
  ASSERT_NE(stopped, nullptr);
  EXPECT_THAT(std::string(stopped->stop_reason().message()), HasSubstr("log write"));
  std::optional<ClientResponse> refused = call(victim, RequestKind::kReadNone, "a");
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(NodeDriverTest, SnapshotNowCompactsTheLogAndTheNodeRestartsFromIt) {
  boot();
  Index applied;
  ASSERT_NO_FATAL_FAILURE(write_n_everywhere(10, &applied));
  const NodeId follower = follower_id();
  ASSERT_EQ(cluster_->node(follower).node()->status().snapshot_index, Index(0)) << "the policy took none yet";

  absl::StatusOr<raft::SnapshotTaken> taken = cluster_->node(follower).node()->snapshot_now();
  ASSERT_TRUE(taken.ok()) << taken.status();
  EXPECT_FALSE(taken->already_current);
  EXPECT_EQ(taken->index, applied);
  const raft::Node& node = *cluster_->node(follower).node();
  EXPECT_EQ(node.status().snapshot_index, applied);
  EXPECT_EQ(node.core().log().first_index(), applied.next()) << "the log prefix is compacted";
  EXPECT_GE(node.status().log_writes_in_flight, 1u) << "the compaction write left at once";

  absl::StatusOr<raft::SnapshotTaken> again = cluster_->node(follower).node()->snapshot_now();
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->already_current);
  EXPECT_EQ(again->index, taken->index);
  EXPECT_EQ(again->term, taken->term);

  run_for(kSecondUs / 10);
  cluster_->node(follower).crash();
  ASSERT_TRUE(cluster_->node(follower).start().ok());
  EXPECT_EQ(cluster_->node(follower).node()->status().snapshot_index, applied) << "booted from the snapshot";
  EXPECT_EQ(kv(follower).data().at("n"), "9");
  std::optional<ClientResponse> w = call(leader_id(), RequestKind::kWrite, "after=1");
  ASSERT_TRUE(w.has_value() && w->status.ok());
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(w->applied); }, kSecondUs));
  EXPECT_EQ(kv(follower).data(), kv(leader_id()).data());
}

TEST_F(NodeDriverTest, CutOffFollowerRefusesFreshnessBoundedReadsButServesUnboundedOnes) {
  boot();
  std::optional<ClientResponse> w = call(leader_id(), RequestKind::kWrite, "color=blue");
  ASSERT_TRUE(w.has_value() && w->status.ok());
  const NodeId follower = follower_id();
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(w->applied); }, kSecondUs));
  const raft::FreshnessBound bound{.max_staleness_ms = 100};
  std::optional<ClientResponse> fresh = read_fresh(follower, "color", bound);
  ASSERT_TRUE(fresh.has_value() && fresh->status.ok()) << (fresh ? fresh->status.ToString() : "no answer");
  EXPECT_EQ(fresh->response, "blue");

  cluster_->network().isolate(follower, cluster_->ids());
  run_for(kSecondUs / 2);
  std::optional<ClientResponse> refused = read_fresh(follower, "color", bound);
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(raft::is_stale_read(refused->status)) << refused->status;
  std::optional<ClientResponse> unbounded = call(follower, RequestKind::kReadNone, "color");
  ASSERT_TRUE(unbounded.has_value() && unbounded->status.ok());
  EXPECT_EQ(unbounded->response, "blue");
  std::optional<ClientResponse> zero = read_fresh(follower, "color", raft::FreshnessBound{});
  ASSERT_TRUE(zero.has_value() && zero->status.ok()) << "freshness 0 is no bound";

  cluster_->network().heal();
  ASSERT_TRUE(cluster_->run_until(
      [&] {
        const raft::NodeStatus s = cluster_->node(follower).node()->status();
        const uint64_t now = cluster_->node(follower).clock().now_ms();
        return s.freshness.leader_contact_ms && now - *s.freshness.leader_contact_ms < 50;
      },
      5 * kSecondUs));
  std::optional<ClientResponse> back = read_fresh(follower, "color", raft::FreshnessBound{100, /*strict=*/true});
  ASSERT_TRUE(back.has_value() && back->status.ok()) << back->status;
}

// A leader counts as in touch while a quorum answers it: cut off, it refuses
// bounded reads before check-quorum deposes it.
TEST_F(NodeDriverTest, LeaderCutOffFromAQuorumRefusesFreshnessBoundedReads) {
  boot();
  const NodeId leader = leader_id();
  ASSERT_TRUE(read_fresh(leader, "k", raft::FreshnessBound{.max_staleness_ms = 40})->status.ok());
  cluster_->network().isolate(leader, cluster_->ids());
  run_for(70'000);
  ASSERT_TRUE(cluster_->node(leader).node()->core().is_leader()) << "still leading (check-quorum not yet)";
  std::optional<ClientResponse> refused = read_fresh(leader, "k", raft::FreshnessBound{.max_staleness_ms = 40});
  ASSERT_TRUE(refused.has_value());
  EXPECT_TRUE(raft::is_stale_read(refused->status)) << refused->status;
  std::optional<ClientResponse> lenient = read_fresh(leader, "k", raft::FreshnessBound{.max_staleness_ms = 1000});
  ASSERT_TRUE(lenient.has_value());
  EXPECT_TRUE(lenient->status.ok()) << lenient->status;
}

TEST_F(NodeDriverTest, SameSeedSameTraceHash) {
  auto run = [](uint64_t seed) {
    SimCluster cluster(small_cluster(seed), [](raft::NodeId, storage::FileSystem&, const std::string&) -> absl::StatusOr<std::unique_ptr<raft::StateMachine>> {
          return std::make_unique<testing::KvStateMachine>();
        });
    EXPECT_TRUE(cluster.start_all());
    cluster.scheduler().run_until(2 * kSecondUs);
    return cluster.scheduler().trace_hash();
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

}  // namespace
}  // namespace reef::sim
