// SQL time across leader changes between hosts whose wall clocks disagree:
// real nodes in the simulator, real SQL state machines, wall clocks seconds
// apart. CURRENT_TIMESTAMP reads the leader's time of day (not time since
// boot), and never goes back when leadership moves to a host whose clock is
// behind. Also the checker that guards this in every swarm run.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "sim/applied_time_checker.h"
#include "sim/sim_cluster.h"
#include "statemachine/command_batch.h"
#include "statemachine/sql_state_machine.h"

namespace reef::sim {
namespace {

using raft::NodeId;
using statemachine::SqlStateMachine;
using ::testing::HasSubstr;

constexpr uint64_t kSecondUs = 1'000'000;
// 2031-05-18T10:00:00Z: what node 1's wall clock reads at simulated time zero.
constexpr int64_t kDateMs = 1'936'864'800'000;
constexpr int64_t kSkewMs = 10'000;

class WallClockTest : public ::testing::Test {
 protected:
  // Node 1 on time, node 2 ten seconds behind, node 3 ten seconds ahead.
  void boot(statemachine::SqlStateMachineOptions sql_options = {}) {
    SimClusterOptions options;
    options.seed = 11;
    options.nodes = 3;
    options.node.tick_ms = 10;
    options.node.node.core.election_timeout_ticks = 10;
    options.node.node.core.heartbeat_interval_ticks = 2;
    options.wall_clock_start_unix_ms = {kDateMs, kDateMs - kSkewMs, kDateMs + kSkewMs};
    cluster_ = std::make_unique<SimCluster>(options, [sql_options](NodeId, storage::FileSystem& disk,
                                                                   const std::string& dir)
                                                -> absl::StatusOr<std::unique_ptr<raft::StateMachine>> {
      auto sql = SqlStateMachine::open(sql_options, disk, dir);
      if (!sql.ok()) return sql.status();
      return std::unique_ptr<raft::StateMachine>(*std::move(sql));
    });
    ASSERT_TRUE(cluster_->start_all());
    ASSERT_TRUE(cluster_->run_until([&] { return cluster_->leader() != nullptr; }, 5 * kSecondUs));
  }

  void lead(NodeId target) {
    SimNode* leader = cluster_->leader();
    ASSERT_NE(leader, nullptr);
    if (leader->id() == target) return;
    leader->run_turn("transfer", [&](raft::Node& node) { node.transfer_leadership(target); });
    ASSERT_TRUE(cluster_->run_until(
        [&] { return cluster_->leader() != nullptr && cluster_->leader()->id() == target; }, 5 * kSecondUs))
        << "leadership did not move to node " << target.value();
  }

  // Inserts the leader's "now" as SQL sees it, in milliseconds.
  void write_now() {
    statemachine::CommandBatch batch;
    batch.statements.push_back(
        {"CREATE TABLE IF NOT EXISTS times(id INTEGER PRIMARY KEY, ms INTEGER, ts TEXT, epoch INTEGER)", {}});
    batch.statements.push_back({"INSERT INTO times(ms, ts, epoch) VALUES "
                                "(CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER), "
                                "CURRENT_TIMESTAMP, unixepoch())",
                                {}});
    SimNode* leader = cluster_->leader();
    ASSERT_NE(leader, nullptr);
    std::optional<raft::ClientResponse> response;
    leader->submit(raft::ClientRequest{raft::RequestKind::kWrite, statemachine::encode_command_batch(batch),
                                       raft::Index(0), leader->clock().now_ms() + 5000},
                   [&](raft::ClientResponse r) { response = std::move(r); });
    ASSERT_TRUE(cluster_->run_until([&] { return response.has_value(); }, 6 * kSecondUs));
    ASSERT_TRUE(response->status.ok()) << response->status;
  }

  // Every row's time, in insertion order, as node `id` stores it.
  std::vector<int64_t> times_on(NodeId id) {
    auto* sql = static_cast<SqlStateMachine*>(cluster_->node(id).state_machine());
    auto result = sql->run_query("SELECT ms FROM times ORDER BY id");
    EXPECT_TRUE(result.ok()) << result.status();
    std::vector<int64_t> out;
    if (!result.ok()) return out;
    for (const auto& row : result->rows) out.push_back(std::get<int64_t>(row.at(0)));
    return out;
  }

  std::unique_ptr<SimCluster> cluster_;
};

TEST_F(WallClockTest, SqlTimeIsTheLeadersTimeOfDayAndNeverGoesBackAcrossLeaderChanges) {
  boot();
  // Ahead, behind, on time, ahead again, behind again.
  const std::vector<NodeId> leaders = {NodeId(3), NodeId(2), NodeId(1), NodeId(3), NodeId(2)};
  for (NodeId leader : leaders) {
    lead(leader);
    write_now();
  }
  ASSERT_TRUE(cluster_->run_until(
      [&] {
        for (NodeId id : cluster_->ids()) {
          if (times_on(id).size() != leaders.size()) return false;
        }
        return true;
      },
      5 * kSecondUs));
  const std::vector<int64_t> times = times_on(NodeId(1));
  // A time of day on the leader's date, not milliseconds since boot.
  EXPECT_GE(times.front(), kDateMs + kSkewMs);
  EXPECT_LT(times.front(), kDateMs + kSkewMs + 60'000);
  for (size_t i = 1; i < times.size(); ++i) {
    EXPECT_GE(times[i], times[i - 1]) << "write " << i << " (leader node " << leaders[i].value()
                                      << ") went back in time";
  }
  // Node 2's clock is 20 s behind node 3's: the writes it leads keep the
  // time node 3 stamped (time stands still rather than going back).
  EXPECT_EQ(times[1], times[0]);
  // Every replica stored the same times.
  for (NodeId id : cluster_->ids()) EXPECT_EQ(times_on(id), times) << "node " << id.value();

  auto* sql = static_cast<SqlStateMachine*>(cluster_->node(NodeId(1)).state_machine());
  auto text = sql->run_query("SELECT ts, epoch FROM times ORDER BY id LIMIT 1");
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(std::get<std::string>(text->rows[0][0]), ::testing::StartsWith("2031-05-18 10:00:"));
  EXPECT_EQ(std::get<int64_t>(text->rows[0][1]), times.front() / 1000);
}

// The switch behind reef-sim --bug time-goes-back does what it says; the
// swarm test reef_sim_catches_time-goes-back shows the checker catching it.
TEST_F(WallClockTest, WithTheDeliberateBugTimeGoesBackWhenABehindHostLeads) {
  statemachine::SqlStateMachineOptions buggy;
  buggy.injected_bug_trust_leader_clock = true;
  boot(buggy);
  lead(NodeId(3));
  write_now();
  lead(NodeId(2));
  write_now();
  ASSERT_TRUE(cluster_->run_until([&] { return times_on(NodeId(1)).size() == 2; }, 5 * kSecondUs));
  const std::vector<int64_t> times = times_on(NodeId(1));
  EXPECT_LT(times[1], times[0]) << "node 2's clock, 20 s behind node 3's, should have set the time";
}

TEST(AppliedTimeCheckerTest, TimeThatOnlyMovesForwardOrStandsStillPasses) {
  AppliedTimeChecker checker;
  checker.observe(NodeId(1), raft::Index(1), 100);
  checker.observe(NodeId(1), raft::Index(2), 100);
  checker.observe(NodeId(1), raft::Index(3), 250);
  checker.observe(NodeId(2), raft::Index(1), 100);  // a replica catching up
  checker.observe(NodeId(2), raft::Index(3), 250);
  checker.observe(NodeId(3), raft::Index(5), 300);  // gaps are fine
  EXPECT_TRUE(checker.ok()) << *checker.violation();
}

TEST(AppliedTimeCheckerTest, TimeGoingBackAlongTheLogIsCaughtInEitherOrderOfObservation) {
  AppliedTimeChecker forward;
  forward.observe(NodeId(1), raft::Index(4), 500);
  forward.observe(NodeId(2), raft::Index(5), 499);
  ASSERT_FALSE(forward.ok());
  EXPECT_THAT(*forward.violation(), HasSubstr("time went back: index 5 applied at 499 ms on node 2"));

  AppliedTimeChecker backward;  // the later index was seen first, on another replica
  backward.observe(NodeId(2), raft::Index(9), 100);
  backward.observe(NodeId(1), raft::Index(7), 200);
  ASSERT_FALSE(backward.ok());
  EXPECT_THAT(*backward.violation(), HasSubstr("index 9 applied at 100 ms on node 2, but earlier index 7"));
}

TEST(AppliedTimeCheckerTest, ReplicasThatDisagreeOnAnEntrysTimeAreCaught) {
  AppliedTimeChecker checker;
  checker.observe(NodeId(1), raft::Index(3), 100);
  checker.observe(NodeId(2), raft::Index(3), 101);
  ASSERT_FALSE(checker.ok());
  EXPECT_THAT(*checker.violation(), HasSubstr("differs between replicas"));
}

}  // namespace
}  // namespace reef::sim
