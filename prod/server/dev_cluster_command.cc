#include "prod/server/dev_cluster_command.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "prod/server/dev_cluster_console.h"
#include "prod/server/dev_cluster_nodes.h"
#include "prod/server/wait_status.h"

namespace reef::prod {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kMaxNodes = 9;
// A leader hands over before it stops (an election timeout at most); a
// node that takes longer than this is stuck and is SIGKILLed.
constexpr auto kStopGrace = std::chrono::seconds(15);

struct DevClusterArgs {
  DevClusterLayout layout;
  bool help = false;
};

constexpr char kUsage[] =
    "Usage: reefdb dev-cluster [--nodes N] [--dir DIR] [--base-port PORT]\n"
    "\n"
    "Starts N nodes (default 3, at most 9) on 127.0.0.1 in one command. Node i listens\n"
    "for HTTP on PORT + 2(i-1) and for Raft on the port after it (default PORT 4001:\n"
    "HTTP 4001, 4003, 4005). Data goes to DIR/node-i (default ./reefdb-dev), each\n"
    "node's log to DIR/node-i.log. Starting again with the same DIR restarts the same\n"
    "cluster with its data.\n"
    "\n"
    "A node that exits (kill -9 the leader to watch another take over) is reported\n"
    "with its pid, its exit status or signal and its log, and the others keep\n"
    "serving. Bring it back by typing `restart N`, or run the `reefdb serve` command\n"
    "printed with the report. Commands, one a line on stdin: status, restart N,\n"
    "stop N, help.\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM stops every running node with SIGTERM, waits for\n"
    "them and exits 0 (1 if one had to be killed or did not exit 0). When no node is\n"
    "left running it waits for `restart N`, unless stdin is closed (no terminal):\n"
    "then nothing could restart one, and it exits 1.\n";

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
    DevClusterLayout& layout = out.layout;
    if (name == "--dir") {
      layout.dir = value;
    } else if (name == "--nodes") {
      if (!absl::SimpleAtoi(value, &layout.nodes) || layout.nodes < 1 || layout.nodes > kMaxNodes) {
        error = absl::StrCat("--nodes: want 1..", kMaxNodes, ", got '", value, "'");
        return false;
      }
    } else if (name == "--base-port") {
      if (!absl::SimpleAtoi(value, &layout.base_port) || layout.base_port < 1024 ||
          layout.base_port > 65000) {
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

// This binary's path, for the by-hand `reefdb serve` command line.
std::string own_binary() {
  char path[4096];
  const ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  return n > 0 ? std::string(path, static_cast<size_t>(n)) : std::string("reefdb");
}

// One line on stdout, flushed at once: the output is often a pipe or a file
// that someone (or a test) is watching.
void say(const std::string& line) {
  std::fputs(absl::StrCat("reefdb dev-cluster: ", line, "\n").c_str(), stdout);
  std::fflush(stdout);
}

void print(const std::string& text) {
  std::fputs(text.c_str(), stdout);
  std::fflush(stdout);
}

// The dev cluster while it runs: one thread waits on a signalfd (SIGINT,
// SIGTERM, SIGCHLD) and on stdin (commands), and acts on what arrives.
class DevCluster {
 public:
  DevCluster(const DevClusterLayout& layout, int signal_fd)
      : nodes_(layout, own_binary()), signal_fd_(signal_fd) {}

  int run() {
    for (int node = 1; node <= nodes_.size(); ++node) {
      if (const absl::Status started = nodes_.start(node); !started.ok()) {
        std::fprintf(stderr, "reefdb dev-cluster: %s\n", std::string(started.message()).c_str());
        nodes_.stop_all(kStopGrace);
        return kExitFailed;
      }
    }
    print_banner();
    for (;;) {
      if (const std::optional<int> exit_code = wait_and_act()) return *exit_code;
      if (nodes_.running_count() == 0 && !stdin_open_) {
        say("no node is running and stdin is closed, so none can be restarted; exiting");
        return kExitFailed;
      }
    }
  }

 private:
  // Waits for a signal or a command and acts on it; an exit code once the
  // dev cluster is done.
  std::optional<int> wait_and_act() {
    pollfd fds[2] = {{.fd = signal_fd_, .events = POLLIN, .revents = 0},
                     {.fd = STDIN_FILENO, .events = POLLIN, .revents = 0}};
    if (poll(fds, stdin_open_ ? 2 : 1, -1) < 0) return std::nullopt;  // EINTR: look again
    if (fds[0].revents & POLLIN) {
      signalfd_siginfo info{};
      if (read(signal_fd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
        const int signal = static_cast<int>(info.ssi_signo);
        if (signal == SIGINT || signal == SIGTERM) return shut_down(signal);
        if (signal == SIGCHLD) report_exits(nodes_.reap());
      }
    }
    if (stdin_open_ && fds[1].revents != 0) read_commands();
    return std::nullopt;
  }

  void print_banner() const {
    const DevClusterLayout& layout = nodes_.layout();
    print(absl::StrCat("reefdb dev-cluster: ", layout.nodes, " node(s), data in ", layout.dir, "\n"));
    for (int node = 1; node <= layout.nodes; ++node) {
      print(absl::StrCat(
          "  node ", node, "  pid ", nodes_.pid(node), "  http://127.0.0.1:", layout.http_port(node),
          "  (raft 127.0.0.1:", layout.raft_port(node), ", log ", layout.log_path(node), ")\n"));
    }
    const int first = layout.http_port(1);
    const int second = layout.http_port(layout.nodes >= 2 ? 2 : 1);
    // The binary's own path: `reefdb` is rarely on PATH in a build tree.
    print(absl::StrCat("\nTry:\n  ", nodes_.binary(), " sql --host 127.0.0.1:", first, "\n"));
    print(absl::StrCat("  curl -XPOST 'http://127.0.0.1:", first,
                       "/db/execute' -H 'Content-Type: application/json' \\\n"));
    print(
        "       -d '[\"CREATE TABLE foo (id INTEGER PRIMARY KEY, name TEXT)\", "
        "[\"INSERT INTO foo(name) VALUES(?)\", \"fiona\"]]'\n");
    print(absl::StrCat("  curl -G 'http://127.0.0.1:", second,
                       "/db/query' --data-urlencode 'q=SELECT * FROM foo'\n"));
    print(
        "\nKill a node (kill -9 PID) to watch another take over; type `restart N` here to bring it back.\n"
        "Commands: status, restart N, stop N, help. Ctrl-C stops the cluster.\n");
  }

  // A node that exited on its own: which, how, where its log is, and how to
  // bring it back.
  void report_exits(const std::vector<DevClusterNodes::Exit>& exits) {
    for (const DevClusterNodes::Exit& exit : exits) {
      say(absl::StrCat("node ", exit.node, " (pid ", exit.pid, ") ", describe_wait_status(exit.wait_status),
                       "; its log: ", nodes_.layout().log_path(exit.node)));
      print(absl::StrCat("  ", nodes_.running_count(), " of ", nodes_.size(),
                         " node(s) still running. To bring node ", exit.node, " back, type `restart ",
                         exit.node, "`, or run it by hand:\n    ", nodes_.serve_command_line(exit.node),
                         "\n"));
    }
    if (!exits.empty() && nodes_.running_count() == 0 && stdin_open_) {
      say("no node is running; type `restart N` to start one, Ctrl-C to quit");
    }
  }

  void report_stopped(const std::vector<DevClusterNodes::Exit>& exits) {
    for (const DevClusterNodes::Exit& exit : exits) {
      say(absl::StrCat(
          "node ", exit.node, " (pid ", exit.pid, ") stopped: ",
          exit.forced ? absl::StrCat("did not exit within ", kStopGrace.count(), " s of SIGTERM, ") : "",
          describe_wait_status(exit.wait_status)));
    }
  }

  // Reads what stdin has and runs each complete line. EOF (or no terminal
  // to read from) only ends the commands; the nodes keep running.
  void read_commands() {
    char buffer[4096];
    const ssize_t n = read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n < 0 && errno == EIO) {
      say("cannot read commands from stdin (running in the background?); Ctrl-C or SIGTERM stops the "
          "cluster");
    }
    if (n <= 0) {
      stdin_open_ = false;
      return;
    }
    pending_input_.append(buffer, static_cast<size_t>(n));
    for (size_t end; (end = pending_input_.find('\n')) != std::string::npos;) {
      const std::string line = pending_input_.substr(0, end);
      pending_input_.erase(0, end + 1);
      run_command(parse_console_command(line, nodes_.size()));
    }
  }

  void run_command(const ConsoleCommand& command) {
    switch (command.kind) {
      case ConsoleCommand::Kind::kNone: return;
      case ConsoleCommand::Kind::kStatus: return print_status();
      case ConsoleCommand::Kind::kRestart: return restart(command.node);
      case ConsoleCommand::Kind::kStop: return stop(command.node);
      case ConsoleCommand::Kind::kHelp: return print(kConsoleHelp);
      case ConsoleCommand::Kind::kInvalid: return say(command.error);
    }
  }

  void print_status() const {
    for (int node = 1; node <= nodes_.size(); ++node) {
      std::string state = "running";
      if (const std::optional<DevClusterNodes::Exit> exit = nodes_.last_exit(node)) {
        state =
            absl::StrCat("exited: ", describe_wait_status(exit->wait_status), " (type `restart ", node, "`)");
      }
      print(absl::StrCat("  node ", node, "  pid ", nodes_.pid(node),
                         "  http://127.0.0.1:", nodes_.layout().http_port(node), "  ", state, "\n"));
    }
  }

  void restart(int node) {
    if (nodes_.running(node)) {
      say(absl::StrCat("node ", node, " (pid ", nodes_.pid(node),
                       ") is running; stopping it with SIGTERM first"));
      report_stopped(nodes_.stop({node}, kStopGrace));
    }
    if (const absl::Status started = nodes_.start(node); !started.ok()) {
      say(absl::StrCat("cannot restart: ", started.message()));
      return;
    }
    say(absl::StrCat("node ", node, " started: pid ", nodes_.pid(node), ", http://127.0.0.1:",
                     nodes_.layout().http_port(node), ", log ", nodes_.layout().log_path(node)));
  }

  void stop(int node) {
    if (!nodes_.running(node)) {
      say(absl::StrCat("node ", node, " is not running; `restart ", node, "` starts it"));
      return;
    }
    say(absl::StrCat("stopping node ", node, " (pid ", nodes_.pid(node), ") with SIGTERM"));
    report_stopped(nodes_.stop({node}, kStopGrace));
  }

  // Ctrl-C or SIGTERM: every running node gets SIGTERM and is waited for.
  int shut_down(int signal) {
    report_exits(nodes_.reap());  // nodes that exited just before the signal
    say(absl::StrCat(signal_name(signal), ": stopping ", nodes_.running_count(),
                     " running node(s) with SIGTERM and waiting for them"));
    const std::vector<DevClusterNodes::Exit> exits = nodes_.stop_all(kStopGrace);
    report_stopped(exits);
    say("stopped");
    for (const DevClusterNodes::Exit& exit : exits) {
      if (exit.forced || !WIFEXITED(exit.wait_status) || WEXITSTATUS(exit.wait_status) != 0)
        return kExitFailed;
    }
    return kExitOk;
  }

  DevClusterNodes nodes_;
  const int signal_fd_;
  bool stdin_open_ = true;
  std::string pending_input_;  // stdin bytes after the last complete line
};

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
  if (mkdir(a.layout.dir.c_str(), 0755) != 0 && errno != EEXIST) {
    std::fprintf(stderr, "reefdb dev-cluster: cannot create %s: %s\n", a.layout.dir.c_str(),
                 std::strerror(errno));
    return kExitFailed;
  }
  // Signals arrive on a file descriptor next to stdin; nodes start with them
  // unblocked. SIGTTIN ignored: a dev cluster in the background reading the
  // terminal gets EIO instead of being stopped.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGCHLD);
  sigprocmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGTTIN, SIG_IGN);
  const int signal_fd = signalfd(-1, &signals, SFD_CLOEXEC);
  if (signal_fd < 0) {
    std::fprintf(stderr, "reefdb dev-cluster: signalfd: %s\n", std::strerror(errno));
    return kExitFailed;
  }
  const int exit_code = DevCluster(a.layout, signal_fd).run();
  close(signal_fd);
  return exit_code;
}

}  // namespace reef::prod
