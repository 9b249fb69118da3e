// NodeIdentity and PeerIncarnations (storage/node_identity.h,
// storage/peer_incarnations.h): round trips through real files, damaged
// files refused with DATA_LOSS, a directory started as another node or
// cluster refused before recovery touches it, and a directory from before
// identity files adopted.
#include "storage/node_identity.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raft/core/log_entry.h"
#include "storage/node_storage.h"
#include "storage/peer_incarnations.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using raft::NodeId;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

IdentityClaim claim(uint64_t node, std::string cluster = "reefdb", uint64_t incarnation = 0xfeed) {
  return IdentityClaim{0x1234 + cluster.size(), cluster, NodeId(node), incarnation};
}

NodeStorageOptions with(IdentityClaim c) {
  NodeStorageOptions options;
  options.identity = std::move(c);
  return options;
}

class NodeIdentityTest : public ::testing::Test {
 protected:
  std::string dir() const { return join_path(backend_.root(), "node"); }
  std::string identity_path() const { return join_path(dir(), kNodeIdentityFileName); }
  FileSystem& fs() { return backend_.fs(); }

  testing::PosixStoreBackend backend_;
};

TEST_F(NodeIdentityTest, RoundTripsThroughTheFile) {
  ASSERT_TRUE(fs().create_dir(dir()).ok());
  const NodeIdentity identity{42, "prod-eu", NodeId(3), 0x0123456789abcdefULL};
  ASSERT_TRUE(write_node_identity(fs(), dir(), identity).ok());
  absl::StatusOr<std::optional<NodeIdentity>> read = read_node_identity(fs(), dir());
  ASSERT_TRUE(read.ok()) << read.status();
  ASSERT_TRUE(read->has_value());
  EXPECT_EQ(**read, identity);
}

TEST_F(NodeIdentityTest, MissingFileIsNoIdentity) {
  absl::StatusOr<std::optional<NodeIdentity>> read = read_node_identity(fs(), dir());
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_FALSE(read->has_value());
}

TEST_F(NodeIdentityTest, EveryDamagedByteIsDataLoss) {
  const std::string good = encode_node_identity_file(NodeIdentity{42, "reefdb", NodeId(3), 7});
  ASSERT_TRUE(fs().create_dir(dir()).ok());
  for (size_t i = 0; i < good.size(); ++i) {
    std::string bad = good;
    bad[i] = static_cast<char>(bad[i] ^ 0x10);
    testing::write_file(fs(), identity_path(), bad);
    absl::StatusOr<std::optional<NodeIdentity>> read = read_node_identity(fs(), dir());
    // A flipped version byte is caught by the seal first.
    EXPECT_TRUE(absl::IsDataLoss(read.status())) << "byte " << i << ": " << read.status();
    EXPECT_THAT(read.status().message(), HasSubstr(identity_path()));
  }
  for (size_t length : {size_t{0}, size_t{5}, good.size() - 1}) {
    testing::write_file(fs(), identity_path(), good.substr(0, length));
    EXPECT_TRUE(absl::IsDataLoss(read_node_identity(fs(), dir()).status())) << length << " bytes";
  }
  testing::write_file(fs(), identity_path(), good + "x");
  EXPECT_TRUE(absl::IsDataLoss(read_node_identity(fs(), dir()).status()));
}

TEST_F(NodeIdentityTest, NewDirectoryRemembersItsFirstIdentity) {
  {
    absl::StatusOr<std::unique_ptr<NodeStorage>> storage = NodeStorage::open(fs(), dir(), with(claim(3)));
    ASSERT_TRUE(storage.ok()) << storage.status();
    ASSERT_TRUE((*storage)->identity().has_value());
    EXPECT_EQ((*storage)->identity()->node_id, NodeId(3));
    EXPECT_EQ((*storage)->identity()->incarnation, 0xfeedu);
    EXPECT_THAT((*storage)->recovery().notes, IsEmpty());  // nothing adopted
  }
  // A later start draws another incarnation; the remembered one stays.
  absl::StatusOr<std::unique_ptr<NodeStorage>> again =
      NodeStorage::open(fs(), dir(), with(claim(3, "reefdb", 0xbeef)));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ((*again)->identity()->incarnation, 0xfeedu);
}

TEST_F(NodeIdentityTest, AnotherNodeIdIsRefusedNamingBothAndTheDirectory) {
  ASSERT_TRUE(NodeStorage::open(fs(), dir(), with(claim(3))).ok());
  absl::StatusOr<std::unique_ptr<NodeStorage>> other = NodeStorage::open(fs(), dir(), with(claim(4)));
  ASSERT_TRUE(absl::IsFailedPrecondition(other.status())) << other.status();
  EXPECT_THAT(other.status().message(),
              AllOf(HasSubstr(dir()), HasSubstr("belongs to node 3"), HasSubstr("started as node 4")));
}

TEST_F(NodeIdentityTest, AnotherClusterIsRefused) {
  ASSERT_TRUE(NodeStorage::open(fs(), dir(), with(claim(3, "blue"))).ok());
  absl::StatusOr<std::unique_ptr<NodeStorage>> other = NodeStorage::open(fs(), dir(), with(claim(3, "green")));
  ASSERT_TRUE(absl::IsFailedPrecondition(other.status())) << other.status();
  EXPECT_THAT(other.status().message(), AllOf(HasSubstr("cluster 'blue'"), HasSubstr("cluster 'green'")));
}

TEST_F(NodeIdentityTest, DamagedIdentityStopsTheOpen) {
  ASSERT_TRUE(NodeStorage::open(fs(), dir(), with(claim(3))).ok());
  std::string bytes = testing::read_file(fs(), identity_path());
  bytes[bytes.size() / 2] ^= 1;
  testing::write_file(fs(), identity_path(), bytes);
  absl::StatusOr<std::unique_ptr<NodeStorage>> storage = NodeStorage::open(fs(), dir(), with(claim(3)));
  EXPECT_TRUE(absl::IsDataLoss(storage.status())) << storage.status();
  EXPECT_TRUE(absl::IsDataLoss(NodeStorage::open_read_only(fs(), dir()).status()));
}

TEST_F(NodeIdentityTest, DirectoryFromBeforeIdentitiesIsAdopted) {
  {  // As the server wrote it before identities: no claim, no file.
    absl::StatusOr<std::unique_ptr<NodeStorage>> old = NodeStorage::open(fs(), dir());
    ASSERT_TRUE(old.ok()) << old.status();
    ASSERT_TRUE((*old)->persist(raft::HardState{raft::Term(2), NodeId(1), raft::Index(0)}, {}).ok());
  }
  absl::StatusOr<bool> exists = fs().exists(identity_path());
  ASSERT_TRUE(exists.ok() && !*exists);
  absl::StatusOr<std::unique_ptr<NodeStorage>> read_only = NodeStorage::open_read_only(fs(), dir());
  ASSERT_TRUE(read_only.ok()) << read_only.status();
  EXPECT_THAT((*read_only)->recovery().notes, Contains(HasSubstr("adopts the directory")));

  absl::StatusOr<std::unique_ptr<NodeStorage>> adopted = NodeStorage::open(fs(), dir(), with(claim(5)));
  ASSERT_TRUE(adopted.ok()) << adopted.status();
  EXPECT_THAT((*adopted)->recovery().notes, Contains(AllOf(HasSubstr("adopted it as node 5"))));
  absl::StatusOr<std::optional<NodeIdentity>> read = read_node_identity(fs(), dir());
  ASSERT_TRUE(read.ok() && read->has_value());
  EXPECT_EQ((*read)->node_id, NodeId(5));
  EXPECT_EQ((*adopted)->recovery().hard_state.term, raft::Term(2));
}

TEST_F(NodeIdentityTest, PeerIncarnationsRememberTheFirstAndRefuseAnother) {
  ASSERT_TRUE(fs().create_dir(dir()).ok());
  {
    absl::StatusOr<std::unique_ptr<PeerIncarnations>> peers = PeerIncarnations::open(fs(), dir());
    ASSERT_TRUE(peers.ok()) << peers.status();
    EXPECT_TRUE((*peers)->admit(NodeId(2), 0)->admitted);  // unknown: never recorded
    EXPECT_THAT((*peers)->remembered(), IsEmpty());
    EXPECT_TRUE((*peers)->admit(NodeId(2), 11)->admitted);
    EXPECT_TRUE((*peers)->admit(NodeId(3), 12)->admitted);
    EXPECT_TRUE((*peers)->admit(NodeId(2), 11)->admitted);
  }
  absl::StatusOr<std::unique_ptr<PeerIncarnations>> reopened = PeerIncarnations::open(fs(), dir());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  absl::StatusOr<PeerIncarnations::Admission> wiped = (*reopened)->admit(NodeId(3), 99);
  ASSERT_TRUE(wiped.ok());
  EXPECT_FALSE(wiped->admitted);
  EXPECT_EQ(wiped->remembered, 12u);
  EXPECT_TRUE((*reopened)->admit(NodeId(3), 0)->admitted);
  EXPECT_TRUE((*reopened)->admit(NodeId(3), 12)->admitted);

  const std::string path = join_path(dir(), PeerIncarnations::kFileName);
  std::string bytes = testing::read_file(fs(), path);
  bytes[14] ^= 4;
  testing::write_file(fs(), path, bytes);
  EXPECT_TRUE(absl::IsDataLoss(PeerIncarnations::open(fs(), dir()).status()));
}

}  // namespace
}  // namespace reef::storage
