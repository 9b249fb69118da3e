#include "prod/server/dev_cluster_nodes.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "prod/server/child_process.h"

namespace reef::prod {
namespace {

constexpr auto kStopPoll = std::chrono::milliseconds(20);

// Single quotes around anything a shell would split or expand.
std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](unsigned char c) {
    return std::isalnum(c) || std::strchr("_-./:=,@%+", c) != nullptr;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (const char c : word) quoted += (c == '\'') ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace

std::string DevClusterLayout::data_dir(int node) const { return absl::StrCat(dir, "/node-", node); }

std::string DevClusterLayout::log_path(int node) const { return absl::StrCat(dir, "/node-", node, ".log"); }

std::vector<std::string> DevClusterLayout::serve_args(int node) const {
  std::vector<std::string> peers;
  for (int i = 1; i <= nodes; ++i) {
    peers.push_back(absl::StrCat(i, "=127.0.0.1:", raft_port(i), "/127.0.0.1:", http_port(i)));
  }
  return {"serve",        "--node-id", std::to_string(node),     "--cluster-name", "dev", "--data-dir",
          data_dir(node), "--peers",   absl::StrJoin(peers, ",")};
}

DevClusterNodes::DevClusterNodes(DevClusterLayout layout, std::string binary)
    : layout_(std::move(layout)), binary_(std::move(binary)), slots_(layout_.nodes) {}

absl::Status DevClusterNodes::start(int node) {
  std::vector<std::string> argv = layout_.serve_args(node);
  argv.insert(argv.begin(), "reefdb");
  // Its own process group: Ctrl-C in the terminal reaches only the dev
  // cluster, which stops each node with SIGTERM and reports how it ended. A
  // dev cluster that dies without stopping its nodes (SIGKILL) must not
  // leave them holding its ports: they get SIGTERM and stop as on Ctrl-C.
  // Its stdin is /dev/null: the dev cluster reads its own for commands.
  const absl::StatusOr<pid_t> pid = spawn_child({
      .path = "/proc/self/exe",
      .argv = std::move(argv),
      .log_path = layout_.log_path(node),
      .stdin_fd = -1,
      .own_process_group = true,
      .terminate_with_parent = true,
      .name = absl::StrCat("reefdb dev-cluster: node ", node),
  });
  if (!pid.ok()) return absl::InternalError(absl::StrCat("node ", node, ": ", pid.status().message()));
  slot(node) = Slot{.pid = *pid, .running = true, .wait_status = 0};
  return absl::OkStatus();
}

std::vector<DevClusterNodes::Exit> DevClusterNodes::stop(const std::vector<int>& nodes,
                                                         std::chrono::milliseconds grace) {
  std::vector<int> waiting;
  for (const int node : nodes) {
    if (!running(node)) continue;
    ::kill(pid(node), SIGTERM);
    waiting.push_back(node);
  }
  std::vector<Exit> exits;
  const auto deadline = std::chrono::steady_clock::now() + grace;
  while (!waiting.empty() && std::chrono::steady_clock::now() < deadline) {
    std::erase_if(waiting, [&](int node) {
      int status = 0;
      const pid_t result = waitpid(pid(node), &status, WNOHANG);
      if (result == pid(node)) exits.push_back(exited(node, status, /*forced=*/false));
      return result == pid(node);
    });
    if (!waiting.empty()) std::this_thread::sleep_for(kStopPoll);
  }
  for (const int node : waiting) {
    ::kill(pid(node), SIGKILL);
    int status = 0;
    waitpid(pid(node), &status, 0);
    exits.push_back(exited(node, status, /*forced=*/true));
  }
  return exits;
}

std::vector<DevClusterNodes::Exit> DevClusterNodes::stop_all(std::chrono::milliseconds grace) {
  std::vector<int> all;
  for (int node = 1; node <= size(); ++node) all.push_back(node);
  return stop(all, grace);
}

std::vector<DevClusterNodes::Exit> DevClusterNodes::reap() {
  std::vector<Exit> exits;
  int status = 0;
  for (pid_t result; (result = waitpid(-1, &status, WNOHANG)) > 0;) {
    for (int node = 1; node <= size(); ++node) {
      if (running(node) && pid(node) == result) exits.push_back(exited(node, status, /*forced=*/false));
    }
  }
  return exits;
}

std::optional<DevClusterNodes::Exit> DevClusterNodes::last_exit(int node) const {
  const Slot& s = slot(node);
  if (s.running || s.pid == 0) return std::nullopt;
  return Exit{.node = node, .pid = s.pid, .wait_status = s.wait_status};
}

int DevClusterNodes::running_count() const {
  return static_cast<int>(
      std::count_if(slots_.begin(), slots_.end(), [](const Slot& s) { return s.running; }));
}

std::string DevClusterNodes::serve_command_line(int node) const {
  std::vector<std::string> words = {shell_quote(binary_)};
  for (const std::string& arg : layout_.serve_args(node)) words.push_back(shell_quote(arg));
  return absl::StrJoin(words, " ");
}

DevClusterNodes::Exit DevClusterNodes::exited(int node, int wait_status, bool forced) {
  Slot& s = slot(node);
  s.running = false;
  s.wait_status = wait_status;
  return Exit{.node = node, .pid = s.pid, .wait_status = wait_status, .forced = forced};
}

}  // namespace reef::prod
