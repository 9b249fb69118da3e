// Membership changes with real `reefdb` processes on 127.0.0.1 (issue 15,
// docs/CLUSTER.md): one node grows to three by `--join`, loses its leader
// to SIGKILL under write load, has the dead machine replaced by a fresh one
// through `reefdb node`, shrinks by one, grows to five and shrinks back to
// three in one joint change, and still holds every acknowledged write on
// every member; a fresh directory under a voter's id is refused.
#include <signal.h>
#include <sys/wait.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prod/server/child_process.h"
#include "tests/prod/support/process_cluster.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;
using Clock = std::chrono::steady_clock;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Fast timings, as ProcessCluster uses.
const std::vector<std::string> kTimings = {"--cluster-name", "membership-test", "--raft-tick-ms",   "20",
                                           "--raft-heartbeat-ms", "40",           "--raft-election-timeout-ms",
                                           "300",            "--log-level",      "debug",
                                           // Snapshots every 200 entries: later joiners catch up by snapshot.
                                           "--snapshot-entries", "200"};

class MembershipProcessTest : public ::testing::Test {
 protected:
  struct Node {
    uint16_t http = 0;
    uint16_t raft = 0;
    pid_t pid = 0;
  };

  void SetUp() override {
    dir_ = absl::StrCat(::testing::TempDir(), "membership-", getpid());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }

  void TearDown() override {
    for (auto& [id, node] : nodes_) stop(id, SIGKILL);
    if (HasFailure()) {
      for (const auto& [id, node] : nodes_) std::cerr << "---- node " << id << "\n" << read_file(log_of(id));
    }
  }

  std::string log_of(uint64_t id) const { return absl::StrCat(dir_, "/node-", id, ".log"); }
  std::string data_of(uint64_t id, const std::string& suffix = "") const {
    return absl::StrCat(dir_, "/node-", id, suffix);
  }
  std::string http_of(uint64_t id) { return absl::StrCat("127.0.0.1:", nodes_[id].http); }
  std::string raft_of(uint64_t id) { return absl::StrCat("127.0.0.1:", nodes_[id].raft); }

  pid_t spawn(uint64_t id, std::vector<std::string> argv) {
    argv.insert(argv.end(), kTimings.begin(), kTimings.end());
    return spawn_child({.path = REEFDB_BINARY,
                        .argv = std::move(argv),
                        .log_path = log_of(id),
                        .terminate_with_parent = true,
                        .name = absl::StrCat("node ", id)})
        .value_or(0);
  }

  void allocate(uint64_t id) {
    const std::vector<uint16_t> ports = free_ports(2);
    nodes_[id] = Node{ports[0], ports[1], 0};
  }

  // A single-node cluster from a data directory alone: no node id (it is
  // 1), no peers; only the listen addresses, so that tests get free ports.
  // A restart keeps the node's ports.
  void start_seed(uint64_t id) {
    ASSERT_EQ(id, 1u) << "a single-node cluster's node is node 1";
    if (!nodes_.contains(id)) allocate(id);
    nodes_[id].pid = spawn(id, {REEFDB_BINARY, "serve", "--data-dir", data_of(id), "--raft-listen-address",
                                raft_of(id), "--http-listen-address", http_of(id)});
  }

  pid_t start_joiner(uint64_t id, const std::string& join, const std::string& data_dir) {
    if (!nodes_.contains(id)) allocate(id);
    nodes_[id].pid = spawn(id, {REEFDB_BINARY, "serve", "--node-id", std::to_string(id), "--data-dir", data_dir,
                                "--join", join, "--raft-listen-address", raft_of(id), "--http-listen-address",
                                http_of(id)});
    return nodes_[id].pid;
  }

  void stop(uint64_t id, int signal) {
    Node& node = nodes_[id];
    if (node.pid == 0) return;
    ::kill(node.pid, signal);
    waitpid(node.pid, nullptr, 0);
    node.pid = 0;
  }

  // `reefdb node ARGS...`; its exit status, its output in `output`.
  int cli(std::vector<std::string> args, std::string& output) {
    const std::string log = absl::StrCat(dir_, "/cli-", cli_runs_++, ".log");
    args.insert(args.begin(), {REEFDB_BINARY, "node"});
    const absl::StatusOr<pid_t> pid = spawn_child({.path = REEFDB_BINARY, .argv = args, .log_path = log, .name = "cli"});
    if (!pid.ok()) return -1;
    int status = 0;
    waitpid(*pid, &status, 0);
    output = read_file(log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

  // cli() again while the cluster answers "retry" (no leader yet after a
  // kill, a change still in flight, a new leader not ready).
  int cli_retrying(const std::vector<std::string>& args, std::string& output) {
    int status = 1;
    for (int attempt = 0; attempt < 30; ++attempt) {
      status = cli(args, output);
      const bool transient = output.find("no_leader") != std::string::npos ||
                             output.find("membership_change_in_progress") != std::string::npos ||
                             output.find("unavailable") != std::string::npos;
      if (status != 1 || !transient) return status;
      sleep_ms(200);
    }
    return status;
  }

  nlohmann::json nodes_seen_by(uint64_t id) { return http_request(nodes_[id].http, "GET", "/nodes").json(); }

  // The leader as `asked` sees it, once it leads: its id.
  std::optional<uint64_t> leader_seen_by(uint64_t asked) {
    const nlohmann::json nodes = nodes_seen_by(asked);
    if (!nodes.is_object()) return std::nullopt;
    for (const auto& [id, node] : nodes.items()) {
      if (node.value("leader", false)) return std::stoull(id);
    }
    return std::nullopt;
  }

  // Waits until `asked`'s /nodes shows exactly `voters` as voters (and no
  // learner) and names a leader among them.
  bool wait_for_voters(uint64_t asked, const std::set<uint64_t>& voters, int timeout_ms = 15000) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (Clock::now() < deadline) {
      const nlohmann::json nodes = nodes_seen_by(asked);
      std::set<uint64_t> seen;
      bool only_voters = nodes.is_object();
      bool led = false;
      if (only_voters) {
        for (const auto& [id, node] : nodes.items()) {
          if (node.value("role", "") != "voter") only_voters = false;
          if (node.value("leader", false)) led = true;
          seen.insert(std::stoull(id));
        }
      }
      // Shown once appended; settled once committed (and a joint one left).
      const nlohmann::json status = http_request(nodes_[asked].http, "GET", "/status").json();
      const nlohmann::json::json_pointer in_flight("/raft/membership_change_in_flight");
      const bool settled = status.is_object() && status.contains(in_flight) && status[in_flight] == false;
      if (only_voters && led && settled && seen == voters) return true;
      sleep_ms(50);
    }
    return false;
  }

  // Starts a node with a fresh directory under `id` (on ports and a log of
  // its own) that asks `join`; it must exit 1 pointing to the runbook.
  void expect_refused(uint64_t id, const std::string& join) {
    const std::vector<uint16_t> ports = free_ports(2);
    const std::string log = absl::StrCat(dir_, "/impostor-", id, ".log");
    std::vector<std::string> argv = {REEFDB_BINARY, "serve", "--node-id", std::to_string(id), "--data-dir",
                                     data_of(id, "-fresh"), "--join", join, "--raft-listen-address",
                                     absl::StrCat("127.0.0.1:", ports[1]), "--http-listen-address",
                                     absl::StrCat("127.0.0.1:", ports[0])};
    argv.insert(argv.end(), kTimings.begin(), kTimings.end());
    const absl::StatusOr<pid_t> impostor = spawn_child(
        {.path = REEFDB_BINARY, .argv = argv, .log_path = log, .terminate_with_parent = true, .name = "impostor"});
    ASSERT_TRUE(impostor.ok());
    int status = 0;
    pid_t waited = 0;
    for (int i = 0; i < 300 && waited == 0; ++i) {
      waited = waitpid(*impostor, &status, WNOHANG);
      if (waited == 0) sleep_ms(50);
    }
    if (waited == 0) {  // still running after 15 s: it was let in
      ::kill(*impostor, SIGKILL);
      waitpid(*impostor, nullptr, 0);
      FAIL() << "node " << id << " with a fresh directory was not refused:\n" << read_file(log);
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << read_file(log);
    EXPECT_THAT(read_file(log), HasSubstr("docs/CLUSTER.md#replacing-a-dead-machine"));
  }

  std::string dir_;
  std::map<uint64_t, Node> nodes_;
  int cli_runs_ = 0;
};

// Writes sequential values through whichever live member answers; keeps
// the ones acknowledged (HTTP 200 without an error).
class Writer {
 public:
  void set_targets(std::vector<uint16_t> ports) {
    std::lock_guard lock(mutex_);
    ports_ = std::move(ports);
  }
  void start(int first) {
    next_ = first;
    thread_ = std::thread([this] { run(); });
  }
  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  std::set<int> acknowledged() const { return acknowledged_; }

 private:
  void run() {
    size_t turn = 0;
    while (!stop_) {
      uint16_t port = 0;
      {
        std::lock_guard lock(mutex_);
        if (!ports_.empty()) port = ports_[turn % ports_.size()];
      }
      const int value = next_;
      const HttpReply reply =
          http_request(port, "POST", "/db/execute?timeout=2s", absl::StrCat("[[\"INSERT INTO t(v) VALUES(?)\", ", value, "]]"));
      const nlohmann::json body = reply.json();
      const bool ok = reply.status == 200 && body.is_object() && body.contains("results") &&
                      body["results"].is_array() && !body["results"].empty() && !body["results"][0].contains("error");
      if (ok) {
        acknowledged_.insert(value);
        ++next_;
      } else {
        ++turn;  // another member; the same value again is harmless (v is not unique)
        sleep_ms(20);
      }
    }
  }

  std::mutex mutex_;
  std::vector<uint16_t> ports_;
  std::atomic<bool> stop_ = false;
  int next_ = 0;
  std::set<int> acknowledged_;
  std::thread thread_;
};

TEST_F(MembershipProcessTest, GrowsReplacesAndShrinksWithoutLosingAnAcknowledgedWrite) {
  std::string out;
  // One node, a table and a first write.
  start_seed(1);
  ASSERT_TRUE(wait_for_voters(1, {1})) << read_file(log_of(1));
  ASSERT_EQ(http_request(nodes_[1].http, "POST", "/db/execute", R"x([["CREATE TABLE t(v INTEGER)"]])x").status, 200);

  // Two more join through node 1 and are promoted once caught up.
  start_joiner(2, http_of(1), data_of(2));
  ASSERT_TRUE(wait_for_voters(1, {1, 2}));
  start_joiner(3, http_of(2), data_of(3));  // through a follower: redirected to the leader
  ASSERT_TRUE(wait_for_voters(1, {1, 2, 3}));

  // The first node restarts with the command it was born with: its log holds
  // the configuration the cluster grew to, so it is no cluster of one.
  stop(1, SIGTERM);
  start_seed(1);
  ASSERT_TRUE(wait_for_voters(1, {1, 2, 3})) << read_file(log_of(1));

  // SIGKILL the leader under write load.
  Writer writer;
  writer.set_targets({nodes_[1].http, nodes_[2].http, nodes_[3].http});
  writer.start(0);
  sleep_ms(500);
  const std::optional<uint64_t> first_leader = leader_seen_by(1);
  ASSERT_TRUE(first_leader.has_value());
  stop(*first_leader, SIGKILL);
  std::vector<uint64_t> alive;
  for (uint64_t id : {1, 2, 3}) {
    if (id != *first_leader) alive.push_back(id);
  }
  writer.set_targets({nodes_[alive[0]].http, nodes_[alive[1]].http});
  sleep_ms(1000);

  // Replace the dead machine: remove it, add a fresh node under a new id
  // through `reefdb node`, start it.
  ASSERT_EQ(cli_retrying({"remove", std::to_string(*first_leader), "--host", http_of(alive[0])}, out), 0) << out;
  EXPECT_THAT(out, HasSubstr("configuration: voters=["));
  allocate(4);
  ASSERT_EQ(cli_retrying({"add", "4", "--raft-addr", raft_of(4), "--http-addr", http_of(4), "--host", http_of(alive[1])},
                         out),
            0)
      << out;
  start_joiner(4, http_of(alive[0]), data_of(4));
  ASSERT_TRUE(wait_for_voters(alive[0], {alive[0], alive[1], 4}));
  writer.set_targets({nodes_[alive[0]].http, nodes_[alive[1]].http, nodes_[4].http});

  // Remove one (a follower), and stop it.
  const std::optional<uint64_t> leader = leader_seen_by(4);
  ASSERT_TRUE(leader.has_value());
  const uint64_t removed = *leader == alive[0] ? alive[1] : alive[0];
  const uint64_t kept = *leader;
  ASSERT_EQ(cli_retrying({"remove", std::to_string(removed), "--host", http_of(4)}, out), 0) << out;
  writer.set_targets({nodes_[kept].http, nodes_[4].http});
  stop(removed, SIGTERM);
  ASSERT_TRUE(wait_for_voters(4, {kept, 4}));

  // Grow to five.
  for (uint64_t id : {5, 6, 7}) {
    start_joiner(id, http_of(4), data_of(id));
    std::set<uint64_t> voters = {kept, 4};
    for (uint64_t joined = 5; joined <= id; ++joined) voters.insert(joined);
    ASSERT_TRUE(wait_for_voters(4, voters)) << nodes_seen_by(4).dump();
  }
  writer.set_targets({nodes_[kept].http, nodes_[4].http, nodes_[5].http, nodes_[6].http, nodes_[7].http});

  // Shrink back to three in one joint change: the two oldest go.
  const std::string change = absl::StrCat(R"({"changes": [{"op": "remove", "id": )", kept,
                                          R"(}, {"op": "remove", "id": 4}]})");
  HttpReply shrunk;
  for (int attempt = 0; attempt < 20; ++attempt) {
    const std::optional<uint64_t> now_leading = leader_seen_by(5);
    if (now_leading) shrunk = http_request(nodes_[*now_leading].http, "POST", "/nodes/change", change);
    if (shrunk.status == 200) break;
    sleep_ms(200);
  }
  ASSERT_EQ(shrunk.status, 200) << shrunk.body;
  EXPECT_THAT(shrunk.body, HasSubstr("outgoing"));  // joint consensus: two voters left at once
  writer.set_targets({nodes_[5].http, nodes_[6].http, nodes_[7].http});
  ASSERT_TRUE(wait_for_voters(5, {5, 6, 7}));
  sleep_ms(300);
  writer.stop();
  stop(kept, SIGTERM);
  stop(4, SIGTERM);

  // Every acknowledged write is on every member.
  const std::set<int> acknowledged = writer.acknowledged();
  EXPECT_GT(acknowledged.size(), 20u);
  const HttpReply barrier = http_request(nodes_[5].http, "POST", "/db/execute", R"x([["INSERT INTO t(v) VALUES(-1)"]])x");
  ASSERT_EQ(barrier.status, 200) << barrier.body;
  for (uint64_t id : {5, 6, 7}) {
    std::set<int> found;
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    while (Clock::now() < deadline) {
      const nlohmann::json answer =
          http_request(nodes_[id].http, "GET", "/db/query?level=none&q=SELECT%20v%20FROM%20t").json();
      found.clear();
      const nlohmann::json::json_pointer values("/results/0/values");
      if (answer.is_object() && answer.contains(values)) {
        for (const nlohmann::json& row : answer[values]) found.insert(row[0].get<int>());
      }
      if (found.contains(-1)) break;  // caught up with the barrier
      sleep_ms(50);
    }
    ASSERT_TRUE(found.contains(-1)) << "node " << id << " did not catch up";
    for (int value : acknowledged) ASSERT_TRUE(found.contains(value)) << "node " << id << " lost write " << value;
  }

  // A fresh directory under a voter's id, and under the id of the dead
  // node that was removed, is refused with the runbook.
  expect_refused(6, http_of(5));
  expect_refused(*first_leader, http_of(7));
  EXPECT_TRUE(wait_for_voters(6, {5, 6, 7}, 2000));
}

// The membership endpoints' answers as a client meets them: redirects from
// a follower, rqlite's bodies, bad input, and the CLI's exit statuses.
TEST_F(MembershipProcessTest, EndpointsRedirectRefuseBadInputAndExplainErrors) {
  std::string out;
  start_seed(1);
  ASSERT_TRUE(wait_for_voters(1, {1}));
  start_joiner(2, http_of(1), data_of(2));
  ASSERT_TRUE(wait_for_voters(1, {1, 2}));
  const uint16_t leader = nodes_[1].http;
  const uint16_t follower = nodes_[2].http;

  // A follower sends changes to the leader: 307 for ReefDB's, 301 for rqlite's.
  HttpReply reply = http_request(follower, "POST", "/nodes/2/demote");
  EXPECT_EQ(reply.status, 307);
  EXPECT_EQ(reply.location, absl::StrCat("http://", http_of(1), "/nodes/2/demote"));
  reply = http_request(follower, "POST", "/join", R"({"id": "9", "addr": "127.0.0.1:1"})");
  EXPECT_EQ(reply.status, 301);
  EXPECT_EQ(reply.location, absl::StrCat("http://", http_of(1), "/join"));

  // A follower's /nodes: its own match index, the leader reachable, the
  // rest left to the leader.
  nlohmann::json nodes = http_request(follower, "GET", "/nodes").json();
  ASSERT_TRUE(nodes.is_object()) << nodes;
  EXPECT_TRUE(nodes["2"]["match_index"].is_number());
  EXPECT_TRUE(nodes["1"]["match_index"].is_null());
  EXPECT_EQ(nodes["1"]["reachable"], true);
  EXPECT_EQ(nodes["1"]["leader"], true);
  nodes = http_request(leader, "GET", "/nodes").json();
  EXPECT_EQ(nodes["2"]["role"], "voter");
  EXPECT_EQ(nodes["2"]["reachable"], true);
  EXPECT_EQ(nodes["2"]["api_addr"], absl::StrCat("http://", http_of(2)));
  EXPECT_EQ(nodes["2"]["addr"], raft_of(2));
  EXPECT_TRUE(nodes["2"]["lag"].is_number());

  // Bad input: 400 with what is wrong.
  reply = http_request(leader, "POST", "/join", R"({"id": "node-a", "addr": "127.0.0.1:1"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("positive integers"));
  EXPECT_EQ(http_request(leader, "POST", "/join", "not json").status, 400);
  reply = http_request(leader, "POST", "/join", R"({"id": "9"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("addr"));
  reply = http_request(leader, "POST", "/nodes/9/add?role=boss", R"({"addr": "127.0.0.1:1"})");
  EXPECT_EQ(reply.status, 400);
  EXPECT_THAT(reply.body, HasSubstr("role must be voter or learner"));
  EXPECT_EQ(http_request(leader, "GET", "/nodes/9/promote").status, 405);

  // The core's refusals.
  reply = http_request(leader, "DELETE", "/nodes/9");
  EXPECT_EQ(reply.status, 404);
  EXPECT_THAT(reply.body, HasSubstr("not_a_member"));
  reply = http_request(leader, "POST", "/nodes/2/promote");
  EXPECT_EQ(reply.status, 409);
  EXPECT_THAT(reply.body, HasSubstr("membership is already"));

  // The CLI: usage errors exit 2, refusals 1 with the cluster's words.
  EXPECT_EQ(cli({"remove"}, out), 2);
  EXPECT_THAT(out, HasSubstr("needs a node id"));
  EXPECT_EQ(cli({"remove", "9", "--host", http_of(2)}, out), 1);
  EXPECT_THAT(out, HasSubstr("not a member"));
  ASSERT_EQ(cli_retrying({"demote", "2", "--host", http_of(2)}, out), 0) << out;  // through the follower
  EXPECT_THAT(out, HasSubstr("learners=[2]"));
  ASSERT_EQ(cli({"list", "--host", http_of(1)}, out), 0) << out;
  EXPECT_THAT(out, HasSubstr("learner"));

  // rqlite's remove; the demoted learner is not promoted back meanwhile.
  sleep_ms(500);
  EXPECT_EQ(http_request(leader, "GET", "/nodes").json()["2"]["role"], "learner");
  reply = http_request(leader, "DELETE", "/remove", R"({"id": "2"})");
  EXPECT_EQ(reply.status, 200) << reply.body;
  EXPECT_THAT(reply.body, HasSubstr("voters=[1]"));
  // A removed id is retired: it cannot join again.
  reply = http_request(leader, "POST", "/join", absl::StrCat(R"({"id": "2", "addr": ")", raft_of(2), R"("})"));
  EXPECT_EQ(reply.status, 409);
  EXPECT_THAT(reply.body, HasSubstr("retired"));
}

}  // namespace
}  // namespace reef::prod::testing
