// `reefdb dev-cluster` as a user runs it: the real binary, its stdin a pipe
// the test types commands into, its output in a file the test reads. A node
// that is SIGKILLed is reported (pid, signal, log) while the others keep
// serving; `restart N` brings it back and it catches up; Ctrl-C stops every
// node and exits 0.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
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

constexpr int kNodes = 3;
constexpr auto kWait = std::chrono::seconds(15);

// Polls `condition` every 50 ms until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& condition, std::chrono::milliseconds timeout = kWait) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return condition();
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

class DevClusterProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reefdb-dev-cluster");
    ASSERT_FALSE(dir_.empty());
    const std::optional<uint16_t> base = free_port_range(2 * kNodes);
    ASSERT_TRUE(base.has_value()) << "no " << 2 * kNodes << " consecutive free ports";
    base_port_ = *base;
    int pipe_fds[2];
    ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
    // Fast Raft timings keep the test short; the nodes read them from the
    // environment they inherit through the dev cluster.
    setenv("REEFDB_RAFT_TICK_MS", "20", 1);
    setenv("REEFDB_RAFT_HEARTBEAT_MS", "40", 1);
    setenv("REEFDB_RAFT_ELECTION_TIMEOUT_MS", "300", 1);
    dev_cluster_ = spawn_child({.path = REEFDB_BINARY,
                                .argv = {REEFDB_BINARY, "dev-cluster", "--nodes", std::to_string(kNodes),
                                         "--dir", cluster_dir(), "--base-port", std::to_string(base_port_)},
                                .log_path = output_path(),
                                .stdin_fd = pipe_fds[0],
                                // A test that crashes takes the dev cluster
                                // (and so its nodes) with it.
                                .terminate_with_parent = true,
                                .name = "dev-cluster"})
                       .value_or(-1);
    close(pipe_fds[0]);
    stdin_ = pipe_fds[1];
    ASSERT_GT(dev_cluster_, 0);
  }

  void TearDown() override {
    if (stdin_ >= 0) close(stdin_);
    if (dev_cluster_ > 0 && !exited_) {  // a failed run: leave no process behind
      ::kill(dev_cluster_, SIGKILL);
      waitpid(dev_cluster_, nullptr, 0);
      for (const pid_t pid : node_pids_) ::kill(pid, SIGKILL);
    }
    if (HasFailure()) std::fprintf(stderr, "dev-cluster output:\n%s\n", output().c_str());
    std::filesystem::remove_all(dir_);
  }

  std::string cluster_dir() const { return dir_ + "/cluster"; }
  std::string output_path() const { return dir_ + "/dev-cluster.out"; }
  std::string log_path(int node) const { return absl::StrCat(cluster_dir(), "/node-", node, ".log"); }
  uint16_t http_port(int node) const { return static_cast<uint16_t>(base_port_ + 2 * (node - 1)); }

  std::string output() const {
    std::ifstream in(output_path());
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
  }

  // The pid the banner gives for each node.
  std::map<int, pid_t> banner_pids() const {
    std::map<int, pid_t> pids;
    const std::string text = output();
    const std::regex line(R"(\n  node (\d+)  pid (\d+)  http://)");
    for (std::sregex_iterator it(text.begin(), text.end(), line), end; it != end; ++it) {
      pids[std::stoi((*it)[1])] = static_cast<pid_t>(std::stol((*it)[2]));
    }
    return pids;
  }

  // The node every node of `nodes` names as leader, once they agree.
  std::optional<int> wait_for_leader(const std::set<int>& nodes) const {
    std::optional<int> leader;
    eventually([&] {
      std::optional<int> agreed;
      for (const int node : nodes) {
        // Any part may be missing while the node boots or has no leader
        // (a const json's operator[] asserts on a missing key).
        const nlohmann::json status = http_request(http_port(node), "GET", "/status").json();
        const nlohmann::json::json_pointer leader_id("/raft/leader/node_id");
        if (!status.is_object() || !status.contains(leader_id) || !status[leader_id].is_number_integer()) {
          return false;
        }
        const int id = status[leader_id].get<int>();
        if (agreed && *agreed != id) return false;
        agreed = id;
      }
      if (!agreed || !nodes.contains(*agreed)) return false;
      leader = agreed;
      return true;
    });
    return leader;
  }

  HttpReply execute(int node, const nlohmann::json& statements) const {
    return http_request(http_port(node), "POST", "/db/execute?timeout=5s", statements.dump());
  }

  void insert(int node, const std::string& key) const {
    const HttpReply reply =
        execute(node, nlohmann::json::array({nlohmann::json::array({"INSERT INTO kv(k) VALUES(?)", key})}));
    ASSERT_EQ(reply.status, 200) << reply.body;
    ASSERT_EQ(reply.json()["results"][0].value("rows_affected", 0), 1) << reply.body;
  }

  // COUNT(*) of kv as `node` alone sees it (level=none: no leader asked).
  std::optional<int64_t> local_count(int node) const {
    const nlohmann::json json =
        http_request(http_port(node), "GET", "/db/query?level=none&q=SELECT%20COUNT(*)%20FROM%20kv").json();
    const nlohmann::json::json_pointer count("/results/0/values/0/0");
    if (!json.is_object() || !json.contains(count) || !json[count].is_number_integer()) return std::nullopt;
    return json[count].get<int64_t>();
  }

  void type(const std::string& line) const {
    const std::string text = line + "\n";
    ASSERT_EQ(write(stdin_, text.data(), text.size()), static_cast<ssize_t>(text.size()));
  }

  bool dev_cluster_running() const { return waitpid(dev_cluster_, nullptr, WNOHANG) == 0; }

  std::string dir_;
  uint16_t base_port_ = 0;
  pid_t dev_cluster_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
  std::set<pid_t> node_pids_;
};

TEST_F(DevClusterProcessTest, KilledLeaderIsReportedOthersServeRestartCatchesUpCtrlCStopsAll) {
  std::map<int, pid_t> pids;
  ASSERT_TRUE(eventually([&] { return (pids = banner_pids()).size() == kNodes; }))
      << "no banner with a pid for each node";
  for (const auto& [node, pid] : pids) node_pids_.insert(pid);
  const std::optional<int> leader = wait_for_leader({1, 2, 3});
  ASSERT_TRUE(leader.has_value()) << "no leader";
  ASSERT_EQ(execute(*leader, {"CREATE TABLE kv (k TEXT PRIMARY KEY)"}).status, 200);
  for (int i = 0; i < 5; ++i) ASSERT_NO_FATAL_FAILURE(insert(*leader, absl::StrCat("before-", i)));

  ASSERT_EQ(::kill(pids[*leader], SIGKILL), 0);
  const std::string report =
      absl::StrCat("node ", *leader, " (pid ", pids[*leader], ") was killed by SIGKILL");
  ASSERT_TRUE(eventually([&] { return output().find(report) != std::string::npos; }))
      << "dev-cluster did not report: " << report;
  EXPECT_THAT(output(), HasSubstr(log_path(*leader)));
  EXPECT_THAT(output(), HasSubstr(absl::StrCat("type `restart ", *leader, "`")));
  EXPECT_THAT(output(),
              HasSubstr(absl::StrCat(" serve --node-id ", *leader, " --cluster-name dev --data-dir ")));
  ASSERT_TRUE(dev_cluster_running()) << "the dev cluster went down with its leader";

  std::set<int> survivors = {1, 2, 3};
  survivors.erase(*leader);
  const std::optional<int> new_leader = wait_for_leader(survivors);
  ASSERT_TRUE(new_leader.has_value()) << "no new leader among the surviving nodes";
  for (int i = 0; i < 5; ++i) ASSERT_NO_FATAL_FAILURE(insert(*new_leader, absl::StrCat("during-", i)));

  type("restart " + std::to_string(*leader));
  const std::regex started(absl::StrCat("node ", *leader, " started: pid (\\d+)"));
  std::smatch match;
  std::string text;
  ASSERT_TRUE(eventually([&] { return std::regex_search(text = output(), match, started); }))
      << "no restart reported";
  node_pids_.insert(static_cast<pid_t>(std::stol(match[1])));
  EXPECT_TRUE(eventually([&] { return local_count(*leader) == 10; }))
      << "the restarted node did not catch up with the 5 rows written while it was down";

  type("no-such-command");
  EXPECT_TRUE(
      eventually([&] { return output().find("unknown command 'no-such-command'") != std::string::npos; }));

  ASSERT_EQ(::kill(dev_cluster_, SIGINT), 0);
  int status = 0;
  ASSERT_TRUE(eventually([&] { return waitpid(dev_cluster_, &status, WNOHANG) == dev_cluster_; }))
      << "dev-cluster did not exit after SIGINT";
  exited_ = true;
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  EXPECT_THAT(output(), HasSubstr("SIGINT: stopping 3 running node(s) with SIGTERM"));
  for (const pid_t pid : node_pids_)
    EXPECT_TRUE(process_gone(pid)) << "node process " << pid << " still exists";
}

}  // namespace
}  // namespace reef::prod::testing
