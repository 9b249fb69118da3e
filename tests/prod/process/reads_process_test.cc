// Reads beside writes in real `reefdb serve` processes (the database on
// disk, queries on read threads): a runaway query, at the default level or
// strong (a barrier through the log, then the query on a read thread), is
// interrupted at the read timeout while writes go on and the leader keeps
// its term; and a node
// killed with SIGKILL reopens its database instead of rebuilding it.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/prod/support/process_cluster.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kLeaderTimeoutMs = 20'000;
constexpr char kRunaway[] =
    "/db/query?q=WITH%20RECURSIVE%20r(i)%20AS%20(SELECT%201%20UNION%20ALL%20SELECT%20i%2B1%20FROM%20r)%20"
    "SELECT%20count(*)%20FROM%20r";

class ReadsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reefdb-reads");
    ASSERT_FALSE(dir_.empty());
    cluster_ = std::make_unique<ProcessCluster>(REEFDB_BINARY, dir_, 3);
    cluster_->add_flags({"--requests-read-timeout-ms=1500"});
    cluster_->start_all();
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  uint64_t term(size_t node) {
    const nlohmann::json status = cluster_->http(node, "GET", "/status").json();
    return status["raft"]["term"].get<uint64_t>();
  }

  HttpReply write(size_t node, int i) {
    return cluster_->http(node, "POST", "/db/execute",
                          absl::StrCat(R"sql(["INSERT INTO t(v) VALUES ('row )sql", i, R"sql(')"])sql"));
  }

  std::string dir_;
  std::unique_ptr<ProcessCluster> cluster_;
};

class RunawayReadTest : public ReadsProcessTest, public ::testing::WithParamInterface<const char*> {};

TEST_P(RunawayReadTest, IsInterruptedWhileWritesGoOnAndTheLeaderStays) {
  const std::optional<size_t> leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
  ASSERT_TRUE(leader.has_value()) << "no leader; logs in " << dir_;
  ASSERT_EQ(cluster_->http(*leader, "POST", "/db/execute", R"sql(["CREATE TABLE t(v TEXT)"])sql").status, 200);
  const uint64_t term_before = term(*leader);

  HttpReply runaway;
  Clock::time_point runaway_done;
  std::thread reading([&] {
    runaway = http_request(cluster_->http_port(*leader), "GET", absl::StrCat(kRunaway, "&level=", GetParam()));
    runaway_done = Clock::now();
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the query is running by now
  for (int i = 0; i < 10; ++i) {
    const HttpReply reply = write(*leader, i);
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  const Clock::time_point writes_done = Clock::now();
  reading.join();

  EXPECT_LT(writes_done, runaway_done) << "the writes waited for the query";
  EXPECT_EQ(runaway.status, 200) << runaway.body;
  EXPECT_THAT(runaway.body, HasSubstr("resource_limit"));
  EXPECT_THAT(runaway.body, HasSubstr("read timeout"));
  EXPECT_EQ(cluster_->wait_for_leader(kLeaderTimeoutMs), leader);
  EXPECT_EQ(term(*leader), term_before) << "an election happened while the query ran";
  const nlohmann::json rows = cluster_->http(*leader, "GET", "/db/query?q=SELECT%20count(*)%20FROM%20t").json();
  EXPECT_EQ(rows["results"][0]["values"][0][0], 10) << rows.dump();
}

INSTANTIATE_TEST_SUITE_P(Levels, RunawayReadTest, ::testing::Values("weak", "strong"));

TEST_F(ReadsProcessTest, AKilledNodeReopensItsDatabaseInsteadOfRebuildingIt) {
  const std::optional<size_t> leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
  ASSERT_TRUE(leader.has_value()) << "no leader; logs in " << dir_;
  ASSERT_EQ(cluster_->http(*leader, "POST", "/db/execute", R"sql(["CREATE TABLE t(v TEXT)"])sql").status, 200);
  for (int i = 0; i < 20; ++i) ASSERT_EQ(write(*leader, i).status, 200);
  const size_t victim = *leader == 1 ? 2 : 1;
  const nlohmann::json status = cluster_->http(*leader, "GET", "/status").json();
  ASSERT_TRUE(cluster_->wait_for_applied(status["raft"]["applied_index"].get<uint64_t>(), 10'000));
  EXPECT_TRUE(std::filesystem::exists(cluster_->data_dir(victim) + "/db/state.db"));

  cluster_->kill(victim, SIGKILL);
  cluster_->start(victim);
  const nlohmann::json rows = [&] {
    nlohmann::json last;
    for (int attempt = 0; attempt < 100; ++attempt) {
      last = cluster_->http(victim, "GET", "/db/query?q=SELECT%20count(*)%20FROM%20t&level=none").json();
      if (last.is_object() && last["results"][0].contains("values")) return last;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return last;
  }();
  EXPECT_EQ(rows["results"][0]["values"][0][0], 20) << rows.dump();
  // Nothing to restore: no snapshot was taken, and the database was where
  // the log left it.
  const std::string text = file_text(cluster_->log_of(victim));
  EXPECT_THAT(text, HasSubstr("serving"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("restored the snapshot")));
}

}  // namespace
}  // namespace reef::prod::testing
