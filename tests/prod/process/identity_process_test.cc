// Node identity with real `reefdb` processes on 127.0.0.1:
//  - `reefdb serve --data-dir DIR` with no node id and no peers serves SQL as
//    a single-node cluster, keeps its data across a restart, and refuses to
//    start the same directory as another node;
//  - a node whose data directory is wiped and which restarts with the same
//    flags is refused by its peers (its messages dropped, /status lists it),
//    learns it and exits 1 pointing to the runbook, while the cluster keeps
//    serving writes and loses none it acknowledged.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prod/server/child_process.h"
#include "tests/prod/support/process_cluster.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kLeaderTimeoutMs = 20'000;
constexpr char kRunbook[] = "docs/CLUSTER.md#replacing-a-dead-machine";

std::string insert(const std::string& key) {
  return absl::StrCat(R"sql(["INSERT INTO kv(k) VALUES(')sql", key, R"sql(')"])sql");
}

// Waits up to `timeout_ms` for `pid` to exit: its exit status, or nullopt.
std::optional<int> wait_for_exit(pid_t pid, uint64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

bool wait_until(const std::function<bool()>& done, uint64_t timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

class IdentityProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reef-identity-process");
    ASSERT_FALSE(dir_.empty());
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::string dir_;
};

// One `reefdb serve` with only a data directory and (so as not to collide
// with anything else on this machine) its two listen addresses.
class SingleNode {
 public:
  SingleNode(std::string dir, std::vector<std::string> extra) : dir_(std::move(dir)) {
    const std::vector<uint16_t> ports = free_ports(2);
    http_port_ = ports[0];
    std::vector<std::string> argv = {REEFDB_BINARY, "serve", "--data-dir", absl::StrCat(dir_, "/data"),
                                     "--http-listen-address", absl::StrCat("127.0.0.1:", ports[0]),
                                     "--raft-listen-address", absl::StrCat("127.0.0.1:", ports[1])};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = spawn_child({.path = REEFDB_BINARY, .argv = argv, .log_path = log(), .terminate_with_parent = true,
                        .name = "single node"})
               .value_or(0);
  }
  ~SingleNode() {
    if (pid_ != 0) stop(SIGKILL);
  }
  void stop(int signal) {
    ::kill(pid_, signal);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }
  std::optional<int> wait_for_exit(uint64_t timeout_ms) {
    std::optional<int> status = testing::wait_for_exit(pid_, timeout_ms);
    if (status) pid_ = 0;
    return status;
  }
  HttpReply http(const std::string& method, const std::string& target, const std::string& body = "") const {
    return http_request(http_port_, method, target, body);
  }
  // Retries until the node answers (it elects itself within a second or so).
  HttpReply execute(const std::string& body) const {
    HttpReply reply;
    wait_until([&] { return (reply = http("POST", "/db/execute", body)).status == 200; }, kLeaderTimeoutMs);
    return reply;
  }
  std::string log() const { return absl::StrCat(dir_, "/node.log"); }

 private:
  std::string dir_;
  uint16_t http_port_ = 0;
  pid_t pid_ = 0;
};

TEST_F(IdentityProcessTest, DataDirAloneServesSqlKeepsItAndRefusesAnotherNodeId) {
  {
    SingleNode node(dir_, {});
    const HttpReply created = node.execute(R"sql(["CREATE TABLE kv (k TEXT PRIMARY KEY)"])sql");
    ASSERT_EQ(created.status, 200) << created.body << file_text(node.log());
    ASSERT_EQ(node.execute(insert("kept")).status, 200);
    EXPECT_THAT(file_text(node.log()), HasSubstr("node 1 of cluster 'reefdb' serving"));
    node.stop(SIGTERM);
  }
  {
    SingleNode again(dir_, {});
    HttpReply read;
    ASSERT_TRUE(wait_until(
        [&] {
          read = again.http("GET", "/db/query?level=strong&q=SELECT%20k%20FROM%20kv");
          return read.status == 200 && read.json()["results"][0].contains("values");
        },
        kLeaderTimeoutMs))
        << read.body << file_text(again.log());
    EXPECT_EQ(read.json()["results"][0]["values"][0][0], "kept");
    again.stop(SIGTERM);
  }
  SingleNode impostor(dir_, {"--node-id", "2"});
  EXPECT_EQ(impostor.wait_for_exit(20'000), 1);
  EXPECT_THAT(file_text(impostor.log()),
              HasSubstr(absl::StrCat("data directory ", dir_, "/data belongs to node 1 of cluster 'reefdb'")));
}

TEST_F(IdentityProcessTest, AWipedNodeIsRefusedAndTheClusterKeepsEveryAcknowledgedWrite) {
  ProcessCluster cluster(REEFDB_BINARY, dir_, 3);
  cluster.start_all();
  std::optional<size_t> leader = cluster.wait_for_leader(kLeaderTimeoutMs);
  ASSERT_TRUE(leader.has_value()) << file_text(cluster.log_of(1));
  ASSERT_EQ(cluster.http(*leader, "POST", "/db/execute", R"sql(["CREATE TABLE kv (k TEXT PRIMARY KEY)"])sql").status, 200);
  std::set<std::string> acknowledged;
  uint64_t highest = 0;
  auto write = [&](const std::string& key) {
    for (size_t node = 1; node <= 2; ++node) {  // followers forward to the leader
      const HttpReply reply = cluster.http(node, "POST", "/db/execute?timeout=2s", insert(key));
      if (reply.status == 200 && reply.json()["results"][0].value("rows_affected", 0) == 1) {
        acknowledged.insert(key);
        highest = std::max(highest, reply.json()["raft_index"].get<uint64_t>());
        return true;
      }
    }
    return false;
  };
  for (int i = 0; i < 30; ++i) EXPECT_TRUE(write(absl::StrCat("before-", i)));
  ASSERT_TRUE(cluster.wait_for_applied(highest, 20'000));

  // Node 3's machine dies and comes back with an empty disk, same flags.
  cluster.kill(3, SIGKILL);
  std::filesystem::remove_all(cluster.data_dir(3));
  cluster.start(3);

  // It learns that its peers refuse it and exits 1, pointing to the runbook.
  EXPECT_EQ(cluster.wait_for_exit(3, 30'000), 1) << file_text(cluster.log_of(3));
  const std::string wiped_log = file_text(cluster.log_of(3));
  EXPECT_THAT(wiped_log, HasSubstr("refuses this node"));
  EXPECT_THAT(wiped_log, HasSubstr(kRunbook));

  // The others refused its messages, said so in their logs and in /status.
  bool listed = false;
  for (size_t node = 1; node <= 2; ++node) {
    const nlohmann::json status = cluster.http(node, "GET", "/status").json();
    const nlohmann::json::json_pointer refused("/identity/refused_peers/3");
    if (status.is_object() && status.contains(refused)) {
      listed = true;
      EXPECT_GT(status[refused]["messages_refused"].get<uint64_t>(), 0u);
      EXPECT_NE(status[refused]["incarnation"], status[refused]["remembered_incarnation"]);
      EXPECT_THAT(file_text(cluster.log_of(node)),
                  HasSubstr("node 3 came back with a new data directory"));
      EXPECT_THAT(file_text(cluster.log_of(node)), HasSubstr(kRunbook));
    }
  }
  EXPECT_TRUE(listed) << "neither node 1 nor node 2 lists node 3 as refused";

  // The two others still form a quorum and lose nothing.
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(write(absl::StrCat("after-", i)));
  ASSERT_TRUE(cluster.wait_for_applied(highest, 20'000));
  for (size_t node = 1; node <= 2; ++node) {
    const HttpReply reply =
        cluster.http(node, "GET", absl::StrCat("/db/query?level=none&min_index=", highest, "&q=SELECT%20k%20FROM%20kv"));
    const nlohmann::json json = reply.json();  // held: the loop below walks into it
    std::set<std::string> keys;
    for (const auto& row : json["results"][0]["values"]) keys.insert(row[0].get<std::string>());
    EXPECT_EQ(keys.size(), acknowledged.size()) << "node " << node << ": " << reply.body;
    for (const std::string& key : acknowledged) EXPECT_TRUE(keys.contains(key)) << key << " missing on node " << node;
  }

  // Restarted again on its new directory with node 1 down, it is refused by
  // node 2 alone: every node learns its peers' incarnations from probes,
  // even a follower that never got a message from node 3, and remembers
  // them across restarts. (Were node 2 to admit it, node 3's empty log
  // could help elect node 2 without the entries only node 1 holds.)
  cluster.kill(1, SIGKILL);
  cluster.kill(2, SIGKILL);
  cluster.start(2);
  std::filesystem::remove(cluster.log_of(3));
  cluster.start(3);
  EXPECT_EQ(cluster.wait_for_exit(3, 30'000), 1) << file_text(cluster.log_of(3));
  EXPECT_THAT(file_text(cluster.log_of(3)), HasSubstr("node 2 refuses this node"));

  // Node 2's directory restarted without --peers would be a cluster of one
  // and diverge: refused, since it remembers other members.
  cluster.kill(2, SIGKILL);
  const std::string alone_log = absl::StrCat(dir_, "/alone.log");
  const pid_t alone = spawn_child({.path = REEFDB_BINARY,
                                   .argv = {REEFDB_BINARY, "serve", "--data-dir", cluster.data_dir(2),
                                            "--cluster-name", "prod-test"},
                                   .log_path = alone_log,
                                   .terminate_with_parent = true,
                                   .name = "node 2 alone"})
                          .value_or(0);
  ASSERT_NE(alone, 0);
  EXPECT_EQ(wait_for_exit(alone, 20'000), 1) << file_text(alone_log);
  EXPECT_THAT(file_text(alone_log), HasSubstr("belongs to a cluster with other members (nodes 1, 3"));
}

}  // namespace
}  // namespace reef::prod::testing
