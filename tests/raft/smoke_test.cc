// End-to-end sanity of the core through the harness: the paths every other
// suite builds on.
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "tests/raft/support/cluster.h"

namespace reef::raft::testing {
namespace {

TEST(Smoke, ThreeNodesElectReplicateAndApply) {
  Cluster c({.voters = 3});
  auto leader = c.run_until_leader();
  ASSERT_TRUE(leader.has_value()) << c.describe();
  for (int i = 0; i < 10; ++i) {
    ProposalResult r = c.propose(*leader, absl::StrCat("v", i));
    ASSERT_TRUE(r.status.ok()) << r.status;
    c.deliver_all();
  }
  c.tick_all(2);
  c.deliver_all();
  for (NodeId id : c.ids()) {
    EXPECT_EQ(c.applied_payloads(id).size(), 10u) << c.describe();
  }
  EXPECT_TRUE(c.checker().ok()) << *c.checker().violation();
}

TEST(Smoke, RestartedFollowerCatchesUp) {
  Cluster c({.voters = 3});
  NodeId leader = *c.run_until_leader();
  NodeId follower = leader == NodeId(1) ? NodeId(2) : NodeId(1);
  c.propose(leader, "a");
  c.deliver_all();
  c.restart(follower);
  c.propose(leader, "b");
  c.deliver_all();
  c.tick_all(2);
  c.deliver_all();
  EXPECT_EQ(c.applied_payloads(follower), (std::vector<std::string>{"a", "b"})) << c.describe();
  EXPECT_TRUE(c.checker().ok()) << *c.checker().violation();
}

}  // namespace
}  // namespace reef::raft::testing
