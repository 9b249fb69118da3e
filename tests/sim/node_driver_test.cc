// The node driver (raft::Node) running for real inside the simulator: real
// storage over SimFileSystem, the simulated network and clocks, and a small
// key-value state machine so these tests are about the driver, not SQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "sim/sim_cluster.h"
#include "tests/sim/kv_state_machine.h"

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
  void boot(SimClusterOptions options = small_cluster()) {
    cluster_ = std::make_unique<SimCluster>(options, [](raft::NodeId) { return std::make_unique<testing::KvStateMachine>(); });
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
  // A strong read goes through the log; the test machine answers the previous
  // value of the key it "sets", so set it to itself.
  std::optional<ClientResponse> strong = call(follower_id(), RequestKind::kReadStrong, "color=blue");
  ASSERT_TRUE(strong.has_value() && strong->status.ok()) << strong->status;
  EXPECT_EQ(strong->response, "blue");
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
  boot();
  for (int i = 0; i < 20; ++i) {
    std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "n=" + std::to_string(i));
    ASSERT_TRUE(r.has_value() && r->status.ok());
  }
  const NodeId victim = follower_id();
  const Index applied = cluster_->node(leader_id()).node()->status().applied;
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(applied); }, kSecondUs));
  cluster_->node(victim).crash();
  ASSERT_TRUE(cluster_->node(victim).start().ok());
  // Before any message arrives, the node has replayed what it had committed.
  EXPECT_EQ(kv(victim).data().at("n"), "19");
}

TEST_F(NodeDriverTest, LaggingFollowerCatchesUpThroughASnapshot) {
  SimClusterOptions options = small_cluster();
  options.node.node.snapshot.entries = 8;
  boot(options);
  const NodeId lagging = follower_id();
  cluster_->network().isolate(lagging, cluster_->ids());
  for (int i = 0; i < 40; ++i) {
    std::optional<ClientResponse> r = call(leader_id(), RequestKind::kWrite, "k" + std::to_string(i % 5) + "=" +
                                                                              std::to_string(i));
    ASSERT_TRUE(r.has_value() && r->status.ok()) << (r ? r->status.ToString() : "no answer");
  }
  const NodeId leader = leader_id();
  EXPECT_GT(cluster_->node(leader).node()->status().snapshot_index, Index(8));
  cluster_->network().heal();
  const Index target = cluster_->node(leader).node()->status().applied;
  ASSERT_TRUE(cluster_->run_until([&] { return all_applied(target); }, 5 * kSecondUs));
  EXPECT_GT(cluster_->node(lagging).node()->status().snapshot_index, Index(0)) << "caught up without a snapshot?";
  EXPECT_EQ(kv(lagging).data(), kv(leader).data());
  // And it survives a restart from the installed snapshot.
  cluster_->node(lagging).crash();
  ASSERT_TRUE(cluster_->node(lagging).start().ok());
  EXPECT_EQ(kv(lagging).data(), kv(leader).data());
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

TEST_F(NodeDriverTest, SameSeedSameTraceHash) {
  auto run = [](uint64_t seed) {
    SimCluster cluster(small_cluster(seed), [](raft::NodeId) { return std::make_unique<testing::KvStateMachine>(); });
    EXPECT_TRUE(cluster.start_all());
    cluster.scheduler().run_until(2 * kSecondUs);
    return cluster.scheduler().trace_hash();
  };
  EXPECT_EQ(run(11), run(11));
  EXPECT_NE(run(11), run(12));
}

}  // namespace
}  // namespace reef::sim
