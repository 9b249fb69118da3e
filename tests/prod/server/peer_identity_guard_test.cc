// PeerIdentityGuard (prod/server/peer_identity_guard.h) over a real
// DIR/peer_incarnations: the first incarnation of each peer is admitted and
// remembered across restarts, another one is refused and listed, unknown (0)
// is always admitted, and being refused is remembered for the owner.
#include "prod/server/peer_identity_guard.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "prod/disk/posix_file_system.h"

namespace reef::prod {
namespace {

using raft::NodeId;

class PeerIdentityGuardTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/reef-peer-guard-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<PeerIdentityGuard> open_guard() {
    absl::StatusOr<std::unique_ptr<storage::PeerIncarnations>> registry = storage::PeerIncarnations::open(fs_, dir_);
    EXPECT_TRUE(registry.ok()) << registry.status();
    return std::make_unique<PeerIdentityGuard>(*std::move(registry), dir_);
  }

  PosixFileSystem fs_;
  std::string dir_;
};

TEST_F(PeerIdentityGuardTest, RefusesAPeerThatComesBackWithAnotherIncarnation) {
  {
    std::unique_ptr<PeerIdentityGuard> guard = open_guard();
    EXPECT_TRUE(guard->admit(NodeId(3), 0));  // unknown: an old sender
    EXPECT_TRUE(guard->admit(NodeId(3), 0x33));
    EXPECT_TRUE(guard->admit(NodeId(3), 0x33));
    EXPECT_TRUE(guard->refused_peers().empty());
  }
  std::unique_ptr<PeerIdentityGuard> restarted = open_guard();
  EXPECT_FALSE(restarted->admit(NodeId(3), 0x44));
  EXPECT_FALSE(restarted->admit(NodeId(3), 0x44));
  EXPECT_TRUE(restarted->admit(NodeId(3), 0));
  EXPECT_TRUE(restarted->admit(NodeId(2), 0x22));  // another peer is not affected
  ASSERT_EQ(restarted->refused_peers().size(), 1u);
  const PeerIdentityGuard::Refusal& refusal = restarted->refused_peers().at(NodeId(3));
  EXPECT_EQ(refusal.remembered, 0x33u);
  EXPECT_EQ(refusal.seen, 0x44u);
  EXPECT_EQ(refusal.messages, 2u);
}

TEST_F(PeerIdentityGuardTest, RemembersWhoRefusesThisNode) {
  std::unique_ptr<PeerIdentityGuard> guard = open_guard();
  EXPECT_TRUE(guard->refused_by_peers().empty());
  guard->refused_by(NodeId(1));
  guard->refused_by(NodeId(1));
  guard->refused_by(NodeId(2));
  EXPECT_THAT(guard->refused_by_peers(), ::testing::ElementsAre(NodeId(1), NodeId(2)));
}

}  // namespace
}  // namespace reef::prod
