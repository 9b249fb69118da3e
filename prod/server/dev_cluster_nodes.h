// The `reefdb serve` processes of `reefdb dev-cluster`: where node i
// listens and keeps its data (DevClusterLayout), and starting, stopping and
// reaping each one (DevClusterNodes). A node that exits on its own stays
// exited, with how it ended remembered, until it is started again; the
// others are not touched.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace reef::prod {

// Node i (1-based): HTTP on base_port + 2(i-1), Raft on the port after it,
// data in dir/node-i, log in dir/node-i.log.
struct DevClusterLayout {
  int nodes = 3;
  std::string dir = "./reefdb-dev";
  int base_port = 4001;

  int http_port(int node) const { return base_port + 2 * (node - 1); }
  int raft_port(int node) const { return http_port(node) + 1; }
  std::string data_dir(int node) const;
  std::string log_path(int node) const;
  // The `serve` arguments of node i (everything after the binary).
  std::vector<std::string> serve_args(int node) const;
};

class DevClusterNodes {
 public:
  // How one node's process ended.
  struct Exit {
    int node = 0;
    pid_t pid = 0;
    int wait_status = 0;  // as waitpid() reports it
    bool forced = false;  // did not stop on SIGTERM in time and was SIGKILLed
  };

  // `binary`: this reefdb's path, for the by-hand command line.
  DevClusterNodes(DevClusterLayout layout, std::string binary);

  const DevClusterLayout& layout() const { return layout_; }
  const std::string& binary() const { return binary_; }
  int size() const { return layout_.nodes; }

  // fork + exec of `reefdb serve` for node i; its stdout and stderr append to
  // its log, its stdin is /dev/null, and it gets SIGTERM if the dev cluster
  // dies. Fails only when fork fails; an exec failure shows up as an exit.
  absl::Status start(int node);
  // SIGTERM to each running node of `nodes`, then waits; a node still running
  // after `grace` is SIGKILLed. Returns the exits in the order they happened.
  std::vector<Exit> stop(const std::vector<int>& nodes, std::chrono::milliseconds grace);
  std::vector<Exit> stop_all(std::chrono::milliseconds grace);
  // Collects the nodes that exited since the last call (never blocks).
  std::vector<Exit> reap();

  bool running(int node) const { return slot(node).running; }
  // The running process, or the last one if the node exited; 0 if never started.
  pid_t pid(int node) const { return slot(node).pid; }
  // How the node's last process ended; nullopt while it runs.
  std::optional<Exit> last_exit(int node) const;
  int running_count() const;

  // The command that runs node i by hand, shell-quoted (no log redirection:
  // run by hand, a node's log goes to the terminal).
  std::string serve_command_line(int node) const;

 private:
  struct Slot {
    pid_t pid = 0;
    bool running = false;
    int wait_status = 0;
  };
  Slot& slot(int node) { return slots_[node - 1]; }
  const Slot& slot(int node) const { return slots_[node - 1]; }
  Exit exited(int node, int wait_status, bool forced);

  DevClusterLayout layout_;
  std::string binary_;
  std::vector<Slot> slots_;
};

}  // namespace reef::prod
