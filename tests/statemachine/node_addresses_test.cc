// The replicated address book (statemachine/node_addresses.h): address
// batches write it identically on every replica, snapshots carry it, client
// SQL cannot see it, and a state that never saw one is unchanged.
#include <gtest/gtest.h>

#include <string>

#include "statemachine/node_addresses.h"
#include "tests/statemachine/harness.h"

namespace reef::statemachine {
namespace {

using testing::Replica;
using testing::sql;

constexpr int64_t kTime = 1'700'000'000'000;

CommandBatch address_batch(uint64_t id, std::string raft, std::string http, bool wants_voter) {
  CommandBatch batch;
  batch.leader_timestamp_ms = kTime;
  batch.node_address = NodeAddress{id, std::move(raft), std::move(http), wants_voter};
  return batch;
}

std::vector<NodeAddress> book(Replica& replica) {
  auto rows = replica.sm->node_addresses();
  EXPECT_TRUE(rows.ok()) << rows.status();
  return rows.ok() ? *rows : std::vector<NodeAddress>{};
}

TEST(NodeAddressesTest, BatchRoundTripsThroughTheCodec) {
  CommandBatch batch = address_batch(4, "10.0.0.4:4002", "10.0.0.4:4001", true);
  batch.node_address->removed = true;
  auto decoded = decode_command_batch(encode_command_batch(batch));
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, batch);
  // A batch without an address encodes as before: no field written.
  CommandBatch plain;
  plain.statements.push_back(sql("SELECT 1"));
  auto plain_decoded = decode_command_batch(encode_command_batch(plain));
  ASSERT_TRUE(plain_decoded.ok());
  EXPECT_FALSE(plain_decoded->node_address.has_value());
}

TEST(NodeAddressesTest, AppliedBatchesUpsertRowsAndCountChanges) {
  Replica replica;
  EXPECT_TRUE(book(replica).empty());
  const uint64_t before = replica.sm->address_changes();
  ASSERT_TRUE(replica.apply(address_batch(2, "h2:4002", "h2:4001", true)).ok());
  ASSERT_TRUE(replica.apply(address_batch(1, "h1:4002", "h1:4001", false)).ok());
  CommandBatch retire = address_batch(2, "h2b:4002", "h2b:4001", false);
  retire.node_address->removed = true;
  ASSERT_TRUE(replica.apply(retire).ok());
  EXPECT_EQ(replica.sm->address_changes(), before + 3);
  EXPECT_EQ(book(replica), (std::vector<NodeAddress>{{1, "h1:4002", "h1:4001", false, false},
                                                     {2, "h2b:4002", "h2b:4001", false, true}}));
}

TEST(NodeAddressesTest, BatchWithStatementsAndAnAddressIsRefusedWhole) {
  Replica replica;
  CommandBatch batch = address_batch(3, "h3:4002", "h3:4001", true);
  batch.statements.push_back(sql("CREATE TABLE t(x)"));
  EXPECT_EQ(replica.apply(batch).status, ApplyStatus::kInvalidBatch);
  EXPECT_TRUE(book(replica).empty());
  EXPECT_FALSE(replica.sm->run_query("SELECT * FROM t").ok());
}

TEST(NodeAddressesTest, StateWithoutAddressesHashesAsBefore) {
  Replica plain;
  Replica with_book;
  ASSERT_TRUE(plain.run({sql("CREATE TABLE t(x)")}).ok());
  ASSERT_TRUE(with_book.run({sql("CREATE TABLE t(x)")}).ok());
  EXPECT_EQ(plain.hash(), with_book.hash());  // no table until the first address
  ASSERT_TRUE(with_book.apply(address_batch(1, "h1:4002", "h1:4001", false)).ok());
  EXPECT_NE(plain.hash(), with_book.hash());  // and then the book is replicated state
}

TEST(NodeAddressesTest, ClientSqlCannotReadTheBook) {
  Replica replica;
  ASSERT_TRUE(replica.apply(address_batch(1, "h1:4002", "h1:4001", false)).ok());
  EXPECT_FALSE(replica.sm->run_query("SELECT * FROM reef_internal.reef_nodes").ok());
}

TEST(NodeAddressesTest, SnapshotCarriesTheBook) {
  Replica a;
  ASSERT_TRUE(a.apply(address_batch(5, "h5:4002", "h5:4001", true)).ok());
  auto snapshot = a.sm->snapshot(raft::Configuration::of_voters({raft::NodeId(1)}, {raft::NodeId(5)}));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  std::string bytes;
  while (true) {
    auto chunk = (*snapshot)->next_chunk(4096);
    ASSERT_TRUE(chunk.ok()) << chunk.status();
    if (!chunk->has_value()) break;
    bytes += **chunk;
  }
  Replica b;
  const uint64_t before = b.sm->address_changes();
  auto restore = b.sm->begin_restore();
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE((*restore)->add_chunk(bytes).ok());
  ASSERT_TRUE((*restore)->finish().ok());
  EXPECT_GT(b.sm->address_changes(), before);  // the host re-reads the book
  EXPECT_EQ(book(b), (std::vector<NodeAddress>{{5, "h5:4002", "h5:4001", true}}));
  EXPECT_EQ(a.hash(), b.hash());
}

}  // namespace
}  // namespace reef::statemachine
