// ReadPool: queries on worker threads with reader connections, answered on
// the loop; its queue bound, its read timeout, its shutdown. A real
// SqlStateMachine on real files, a real io_context.
#include "prod/server/read_pool.h"

#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/io_context.hpp>

#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_state_machine.h"
#include "tests/storage/store_test_backends.h"

namespace reef::prod {
namespace {

using statemachine::QueryResponse;

constexpr char kRunaway[] = "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) SELECT count(*) FROM r";

class ReadPoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(disk_.root().empty());
    auto opened = statemachine::SqlStateMachine::open({}, disk_.fs(), disk_.root() + "/db");
    ASSERT_TRUE(opened.ok()) << opened.status();
    sm_ = *std::move(opened);
    const statemachine::CommandBatch batch{
        {}, 1'700'000'000'000, {{"CREATE TABLE t(v TEXT)", {}}, {"INSERT INTO t VALUES ('hello')", {}}}};
    ASSERT_TRUE(sm_->apply(raft::LogEntry{raft::Term(1), raft::Index(1), raft::EntryType::kNormal,
                                          statemachine::encode_command_batch(batch)})
                    .ok());
    ASSERT_TRUE(sm_->commit_applied().ok());
  }

  std::unique_ptr<ReadPool> make_pool(ReadPoolOptions options) {
    return std::make_unique<ReadPool>(
        *sm_, [machine = sm_.get()] { return machine->open_reader(); }, loop_, options);
  }

  // Starts `sql` on the pool; the answer lands in *out.
  void start(ReadPool& pool, const char* sql, std::optional<absl::StatusOr<QueryResponse>>* out) {
    pool.start_query(statemachine::encode_query_request({sql, {}}), [this, out](absl::StatusOr<std::string> bytes) {
      answered_on_ = std::this_thread::get_id();
      if (!bytes.ok()) {
        *out = bytes.status();
        return;
      }
      *out = statemachine::decode_query_response(*bytes);
    });
  }

  // Runs the loop until `done` or 10 s passed.
  template <typename Done>
  void run_until(Done done) {
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done() && std::chrono::steady_clock::now() < give_up) {
      loop_.restart();
      loop_.run_for(std::chrono::milliseconds(5));
    }
  }

  storage::testing::PosixStoreBackend disk_;
  std::unique_ptr<statemachine::SqlStateMachine> sm_;
  boost::asio::io_context loop_;
  std::thread::id answered_on_;
};

TEST_F(ReadPoolTest, AQueryIsAnsweredOnTheLoopFromAReaderConnection) {
  auto pool = make_pool({});
  std::optional<absl::StatusOr<QueryResponse>> answer;
  start(*pool, "SELECT v FROM t", &answer);
  EXPECT_FALSE(answer.has_value()) << "answered before the loop ran";
  run_until([&] { return answer.has_value(); });
  ASSERT_TRUE(answer.has_value());
  ASSERT_TRUE(answer->ok()) << answer->status();
  ASSERT_TRUE((*answer)->ok()) << (*answer)->message;
  EXPECT_EQ((*answer)->rows.at(0).at(0), statemachine::Value(std::string("hello")));
  EXPECT_EQ(answered_on_, std::this_thread::get_id());
}

// One thread, one place in the queue: a third read is refused at once,
// and the runaway one holding the thread stops at the read timeout.
TEST_F(ReadPoolTest, ReadsBeyondTheQueueAreRefusedAndARunawayOneTimesOut) {
  auto pool = make_pool({.threads = 1, .max_queued = 1, .read_timeout_ms = 300});
  std::optional<absl::StatusOr<QueryResponse>> runaway, queued, refused;
  start(*pool, kRunaway, &runaway);
  while (pool->reads_running() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  start(*pool, "SELECT 1", &queued);
  EXPECT_FALSE(queued.has_value());
  start(*pool, "SELECT 2", &refused);
  ASSERT_TRUE(refused.has_value()) << "a read past the queue bound was queued";
  EXPECT_EQ(refused->status().code(), absl::StatusCode::kResourceExhausted) << refused->status();
  run_until([&] { return runaway.has_value() && queued.has_value(); });
  ASSERT_TRUE(runaway.has_value() && runaway->ok());
  EXPECT_EQ((*runaway)->error_code, statemachine::ErrorCode::kResourceLimit);
  EXPECT_NE((*runaway)->message.find("read timeout"), std::string::npos) << (*runaway)->message;
  ASSERT_TRUE(queued.has_value() && queued->ok());
  EXPECT_TRUE((*queued)->ok()) << (*queued)->message;
}

// A pool destroyed with answers not yet delivered drops them: they would
// call into a node that is going away.
TEST_F(ReadPoolTest, AnswersAfterThePoolIsGoneAreDropped) {
  auto pool = make_pool({});
  std::optional<absl::StatusOr<QueryResponse>> answer;
  start(*pool, "SELECT v FROM t", &answer);
  while (pool->reads_waiting() + pool->reads_running() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  pool.reset();  // its answer is on the loop's queue by now
  loop_.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(answer.has_value());
}

}  // namespace
}  // namespace reef::prod
