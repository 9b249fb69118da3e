// RequestTable: what each wait hands back, in which order, and the ids.
#include "raft/driver/request_table.h"

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace reef::raft {
namespace {

// A waiter whose answer lands in `answers` (by its payload, to tell them apart).
Waiter waiter(std::string name, uint64_t deadline_ms, std::shared_ptr<std::vector<std::string>> answers,
              RequestKind kind = RequestKind::kWrite) {
  ClientRequest request;
  request.kind = kind;
  request.payload = name;
  request.deadline_ms = deadline_ms;
  return Waiter{std::move(request), [answers, name](ClientResponse) { answers->push_back(name); }};
}

std::vector<std::string> payloads(const std::vector<Waiter>& waiters) {
  std::vector<std::string> out;
  for (const Waiter& w : waiters) out.push_back(w.request.payload);
  return out;
}

class RequestTableTest : public ::testing::Test {
 protected:
  RequestTable table_{/*seed=*/7};
  std::shared_ptr<std::vector<std::string>> answers_ = std::make_shared<std::vector<std::string>>();
};

TEST_F(RequestTableTest, ProposalIdsStartAtOneAndAreTakenOnce) {
  EXPECT_EQ(table_.add_proposing(waiter("a", 100, answers_)), ProposalId(1));
  EXPECT_EQ(table_.add_proposing(waiter("b", 100, answers_)), ProposalId(2));
  EXPECT_EQ(table_.size(), 2u);
  std::optional<Waiter> b = table_.take_proposing(ProposalId(2));
  ASSERT_TRUE(b.has_value());
  EXPECT_EQ(b->request.payload, "b");
  EXPECT_FALSE(table_.take_proposing(ProposalId(2)).has_value());
  EXPECT_FALSE(table_.take_proposing(ProposalId(9)).has_value());
  EXPECT_EQ(table_.size(), 1u);
}

TEST_F(RequestTableTest, PlacedProposalsCarryTheirTerm) {
  table_.add_placed(Index(5), Term(2), waiter("a", 100, answers_));
  std::optional<RequestTable::Placed> placed = table_.take_placed(Index(5));
  ASSERT_TRUE(placed.has_value());
  EXPECT_EQ(placed->term, Term(2));
  EXPECT_EQ(placed->waiter.request.payload, "a");
  EXPECT_FALSE(table_.take_placed(Index(5)).has_value());
}

TEST_F(RequestTableTest, APlaceKeepsTheFirstProposalPutThere) {
  table_.add_placed(Index(5), Term(2), waiter("first", 100, answers_));
  table_.add_placed(Index(5), Term(3), waiter("second", 100, answers_));
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_EQ(table_.take_placed(Index(5))->waiter.request.payload, "first");
}

TEST_F(RequestTableTest, TakePlacedThroughTakesLowestFirstUpToTheIndex) {
  table_.add_placed(Index(7), Term(1), waiter("seven", 100, answers_));
  table_.add_placed(Index(3), Term(1), waiter("three", 100, answers_));
  table_.add_placed(Index(9), Term(1), waiter("nine", 100, answers_));
  EXPECT_EQ(payloads(table_.take_placed_through(Index(7))), (std::vector<std::string>{"three", "seven"}));
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_TRUE(table_.take_placed(Index(9)).has_value());
}

TEST_F(RequestTableTest, ReadAndForwardIdsDependOnTheSeedAndCount) {
  RequestTable same{7};
  RequestTable other{8};
  const ReadId read = table_.add_read_index(waiter("r1", 100, answers_));
  EXPECT_EQ(same.add_read_index(waiter("r", 100, answers_)), read);
  EXPECT_NE(other.add_read_index(waiter("r", 100, answers_)), read);
  EXPECT_EQ(table_.add_read_index(waiter("r2", 100, answers_)), ReadId(read.value() + 1));
  // A 2^62 space, never 0.
  EXPECT_GE(read.value(), 1u);
  EXPECT_LE(read.value(), (uint64_t{1} << 62));

  const uint64_t forward = table_.add_forwarded(waiter("f1", 100, answers_));
  EXPECT_EQ(same.add_forwarded(waiter("f", 100, answers_)), forward);
  EXPECT_NE(forward, read.value());
  EXPECT_EQ(table_.add_forwarded(waiter("f2", 100, answers_)), forward + 1);

  EXPECT_EQ(table_.take_read_index(read)->request.payload, "r1");
  EXPECT_FALSE(table_.take_read_index(read).has_value());
  EXPECT_EQ(table_.take_forwarded(forward)->request.payload, "f1");
  EXPECT_FALSE(table_.take_forwarded(forward).has_value());
}

TEST_F(RequestTableTest, ReadsWaitingForAppliedAreServedInOrderOfNeed) {
  table_.add_waiting_for_applied(Index(4), waiter("four", 100, answers_));
  table_.add_waiting_for_applied(Index(2), waiter("two", 100, answers_));
  table_.add_waiting_for_applied(Index(4), waiter("four-again", 100, answers_));
  EXPECT_FALSE(table_.take_servable(Index(1)).has_value());
  EXPECT_EQ(table_.take_servable(Index(3))->request.payload, "two");
  EXPECT_FALSE(table_.take_servable(Index(3)).has_value());
  EXPECT_EQ(table_.take_servable(Index(4))->request.payload, "four");
  EXPECT_EQ(table_.take_servable(Index(9))->request.payload, "four-again");
  EXPECT_EQ(table_.size(), 0u);
}

TEST_F(RequestTableTest, ExpiryTakesWhatIsDueFromEveryWaitAndSplitsWritesFromReads) {
  table_.add_proposing(waiter("proposing", 10, answers_));
  table_.add_placed(Index(1), Term(1), waiter("placed", 20, answers_, RequestKind::kReadStrong));
  table_.add_read_index(waiter("read-index", 10, answers_, RequestKind::kReadLinearizable));
  table_.add_waiting_for_applied(Index(3), waiter("waiting", 30, answers_, RequestKind::kReadNone));
  table_.add_forwarded(waiter("forwarded", 20, answers_, RequestKind::kReadWeak));
  table_.add_proposing(waiter("later", 31, answers_));

  RequestTable::Expired expired = table_.take_expired(/*now_ms=*/30);
  for (ResponseCallback& done : expired.writes) done(ClientResponse{});
  EXPECT_EQ(*answers_, (std::vector<std::string>{"proposing"}));
  answers_->clear();
  // A strong read placed as a barrier is still a read: nothing of it can
  // have been applied.
  for (ResponseCallback& done : expired.reads) done(ClientResponse{});
  EXPECT_EQ(*answers_, (std::vector<std::string>{"placed", "read-index", "waiting", "forwarded"}));
  EXPECT_EQ(table_.size(), 1u);
  EXPECT_TRUE(table_.take_expired(30).writes.empty());
  EXPECT_EQ(table_.take_expired(31).writes.size(), 1u);
}

TEST_F(RequestTableTest, TakeAllEmptiesEveryWait) {
  table_.add_proposing(waiter("proposing", 10, answers_));
  table_.add_placed(Index(1), Term(1), waiter("placed", 10, answers_));
  table_.add_read_index(waiter("read-index", 10, answers_));
  table_.add_waiting_for_applied(Index(3), waiter("waiting", 10, answers_));
  table_.add_forwarded(waiter("forwarded", 10, answers_));
  EXPECT_EQ(table_.size(), 5u);
  EXPECT_EQ(payloads(table_.take_all()),
            (std::vector<std::string>{"proposing", "placed", "read-index", "waiting", "forwarded"}));
  EXPECT_EQ(table_.size(), 0u);
  EXPECT_TRUE(table_.take_all().empty());
}

}  // namespace
}  // namespace reef::raft
