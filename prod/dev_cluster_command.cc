#include "prod/dev_cluster_command.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace reef::prod {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kMaxNodes = 9;

struct DevClusterArgs {
  int nodes = 3;
  std::string dir = "./reefdb-dev";
  int base_port = 4001;
  bool help = false;
};

constexpr char kUsage[] =
    "Usage: reefdb dev-cluster [--nodes N] [--dir DIR] [--base-port PORT]\n"
    "\n"
    "Starts N nodes (default 3, at most 9) on 127.0.0.1 in one command and stops them\n"
    "all on Ctrl-C. Node i listens for HTTP on PORT + 2(i-1) and for Raft on the port\n"
    "after it (default PORT 4001: HTTP 4001, 4003, 4005). Data goes to DIR/node-i\n"
    "(default ./reefdb-dev), each node's log to DIR/node-i.log. Starting again with\n"
    "the same DIR restarts the same cluster with its data.\n";

bool parse(const std::vector<std::string>& args, DevClusterArgs& out, std::string& error) {
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    std::string name = arg;
    std::string value;
    if (const size_t eq = arg.find('='); eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    } else if (i + 1 < args.size()) {
      value = args[++i];
    } else {
      error = absl::StrCat(arg, " needs a value");
      return false;
    }
    if (name == "--dir") {
      out.dir = value;
    } else if (name == "--nodes") {
      if (!absl::SimpleAtoi(value, &out.nodes) || out.nodes < 1 || out.nodes > kMaxNodes) {
        error = absl::StrCat("--nodes: want 1..", kMaxNodes, ", got '", value, "'");
        return false;
      }
    } else if (name == "--base-port") {
      if (!absl::SimpleAtoi(value, &out.base_port) || out.base_port < 1024 || out.base_port > 65000) {
        error = absl::StrCat("--base-port: want 1024..65000, got '", value, "'");
        return false;
      }
    } else {
      error = absl::StrCat("unknown option '", name, "'");
      return false;
    }
  }
  return true;
}

int http_port(const DevClusterArgs& a, int node) { return a.base_port + 2 * (node - 1); }
int raft_port(const DevClusterArgs& a, int node) { return http_port(a, node) + 1; }

std::string peers_flag(const DevClusterArgs& a) {
  std::vector<std::string> peers;
  for (int i = 1; i <= a.nodes; ++i) {
    peers.push_back(absl::StrCat(i, "=127.0.0.1:", raft_port(a, i), "/127.0.0.1:", http_port(a, i)));
  }
  return absl::StrJoin(peers, ",");
}

// fork + exec of this same binary as `reefdb serve`; stdout and stderr to the log.
pid_t start_node(const DevClusterArgs& a, int node) {
  const std::string data = absl::StrCat(a.dir, "/node-", node);
  const std::string log = absl::StrCat(a.dir, "/node-", node, ".log");
  std::vector<std::string> argv = {"reefdb", "serve", "--node-id", std::to_string(node), "--cluster-name", "dev",
                                   "--data-dir", data, "--peers", peers_flag(a)};
  const pid_t pid = fork();
  if (pid != 0) return pid;
  sigset_t none;  // the parent blocks SIGINT/SIGTERM; the node must get them
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd >= 0) {
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
  }
  std::vector<char*> raw;
  for (std::string& s : argv) raw.push_back(s.data());
  raw.push_back(nullptr);
  execv("/proc/self/exe", raw.data());
  std::fprintf(stderr, "reefdb dev-cluster: cannot run /proc/self/exe: %s\n", std::strerror(errno));
  _exit(127);
}

void print_banner(const DevClusterArgs& a) {
  std::printf("reefdb dev-cluster: %d node(s), data in %s\n", a.nodes, a.dir.c_str());
  for (int i = 1; i <= a.nodes; ++i) {
    std::printf("  node %d  http://127.0.0.1:%d  (raft 127.0.0.1:%d, log %s/node-%d.log)\n", i, http_port(a, i),
                raft_port(a, i), a.dir.c_str(), i);
  }
  std::printf(
      "\nTry:\n"
      "  reefdb sql --host 127.0.0.1:%d\n"
      "  curl -XPOST 'http://127.0.0.1:%d/db/execute' -H 'Content-Type: application/json' \\\n"
      "       -d '[\"CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)\", [\"INSERT INTO foo(name) VALUES(?)\", \"fiona\"]]'\n"
      "  curl -G 'http://127.0.0.1:%d/db/query' --data-urlencode 'q=SELECT * FROM foo'\n"
      "\nCtrl-C stops the cluster.\n",
      http_port(a, 1), http_port(a, 1), http_port(a, 2 <= a.nodes ? 2 : 1));
  std::fflush(stdout);
}

// Waits for SIGINT/SIGTERM or for a node to exit; returns true for a signal.
bool wait_for_stop_or_exit(const std::map<pid_t, int>& nodes, const sigset_t& signals, int& exited_node) {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0 && nodes.contains(pid)) {
      exited_node = nodes.at(pid);
      return false;
    }
    timespec wait{0, 100'000'000};
    const int signal = sigtimedwait(&signals, nullptr, &wait);
    if (signal == SIGINT || signal == SIGTERM) return true;
  }
}

void stop_nodes(std::map<pid_t, int>& nodes) {
  for (const auto& [pid, node] : nodes) kill(pid, SIGTERM);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
  while (!nodes.empty() && std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      nodes.erase(pid);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }
  for (const auto& [pid, node] : nodes) {
    std::fprintf(stderr, "reefdb dev-cluster: node %d did not stop in 15 s; killing it\n", node);
    kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
  }
}

}  // namespace

int run_dev_cluster_command(const std::vector<std::string>& args) {
  DevClusterArgs a;
  std::string error;
  if (!parse(args, a, error)) {
    std::fprintf(stderr, "reefdb dev-cluster: %s\n\n%s", error.c_str(), kUsage);
    return kExitUsage;
  }
  if (a.help) {
    std::printf("%s", kUsage);
    return kExitOk;
  }
  if (mkdir(a.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "reefdb dev-cluster: cannot create %s: %s\n", a.dir.c_str(), std::strerror(errno));
    return kExitFailed;
  }
  // Signals are taken synchronously; children start with them unblocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  std::map<pid_t, int> nodes;
  for (int i = 1; i <= a.nodes; ++i) {
    const pid_t pid = start_node(a, i);
    if (pid < 0) {
      std::fprintf(stderr, "reefdb dev-cluster: fork: %s\n", std::strerror(errno));
      stop_nodes(nodes);
      return kExitFailed;
    }
    nodes[pid] = i;
  }
  print_banner(a);
  int exited = 0;
  const bool asked = wait_for_stop_or_exit(nodes, signals, exited);
  if (!asked) {
    std::fprintf(stderr, "reefdb dev-cluster: node %d exited (see %s/node-%d.log); stopping the others\n", exited,
                 a.dir.c_str(), exited);
  }
  for (auto it = nodes.begin(); it != nodes.end();) it = (it->second == exited) ? nodes.erase(it) : std::next(it);
  stop_nodes(nodes);
  std::printf("reefdb dev-cluster: stopped\n");
  return asked ? kExitOk : kExitFailed;
}

}  // namespace reef::prod
