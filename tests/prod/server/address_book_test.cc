// AddressBook: static peers seed it, the replicated rows override and
// extend it, and update_from() names the members whose addresses moved (the
// transport is re-pointed at exactly those).
#include "prod/server/address_book.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace reef::prod {
namespace {

using ::testing::ElementsAre;
using raft::NodeId;

TEST(AddressBookTest, ReplicatedRowsOverrideSeedsAndReportWhatMoved) {
  AddressBook book;
  book.seed(NodeId(1), MemberAddresses{"h1:4002", "h1:4001"});
  book.seed(NodeId(2), MemberAddresses{"h2:4002", "h2:4001"});
  EXPECT_EQ(book.http_url(NodeId(1)), "http://h1:4001");
  EXPECT_FALSE(book.replicated(NodeId(1)));

  // Node 1 recorded where it already was; node 3 is new.
  std::vector<raft::NodeId> moved = book.update_from({{1, "h1:4002", "h1:4001", false, false},
                                                      {3, "h3:4002", "h3:4001", true, false}});
  EXPECT_THAT(moved, ElementsAre(NodeId(3)));
  EXPECT_TRUE(book.replicated(NodeId(1)));
  EXPECT_TRUE(book.find(NodeId(3))->wants_voter);
  EXPECT_EQ(book.find(NodeId(2))->raft_address, "h2:4002");  // a seed without a row stays

  // Node 3 moves and node 2's row overrides its seed.
  moved = book.update_from({{1, "h1:4002", "h1:4001", false, false},
                            {2, "h2b:4002", "h2b:4001", false, false},
                            {3, "h3b:4002", "h3:4001", true, true}});
  EXPECT_THAT(moved, ElementsAre(NodeId(2), NodeId(3)));
  EXPECT_EQ(book.find(NodeId(2))->raft_address, "h2b:4002");
  EXPECT_TRUE(book.find(NodeId(3))->removed);
  EXPECT_EQ(book.all().size(), 3u);
}

TEST(AddressBookTest, UnknownOrHttpLessMembersHaveNoUrl) {
  AddressBook book;
  EXPECT_FALSE(book.find(NodeId(9)).has_value());
  EXPECT_FALSE(book.http_url(NodeId(9)).has_value());
  book.update_from({{4, "h4:4002", "", false, false}});  // rqlite's /join carries no HTTP address
  EXPECT_FALSE(book.http_url(NodeId(4)).has_value());
}

}  // namespace
}  // namespace reef::prod
