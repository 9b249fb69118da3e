// spawn_child: fork + exec of another program with its output appended to a
// log file, the one way reefdb starts processes: `reefdb dev-cluster` starts
// its nodes with it, and the process tests start `reefdb` with it.
//
// The child starts clean of what its parent set up for itself: no blocked
// signals and SIGTTIN at its default (the dev cluster blocks SIGINT/SIGTERM/
// SIGCHLD to wait for them, and ignores SIGTTIN to read its terminal from
// the background; a blocked or ignored signal survives exec).
//
// Failures in the child (its log cannot be opened, exec fails) cannot be
// returned: the child writes one line to stderr ("<name>: cannot ...") and
// exits with kChildExitCannotOpenLog or kChildExitCannotExec, so the parent
// sees them as an exit status.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace reef::prod {

inline constexpr int kChildExitCannotOpenLog = 126;
inline constexpr int kChildExitCannotExec = 127;

struct ChildProcess {
  std::string path;               // the program to exec
  std::vector<std::string> argv;  // its argv, argv[0] included (need not be `path`)
  std::string log_path;           // stdout and stderr append here (created 0644)
  int stdin_fd = -1;              // the child's stdin (a pipe's read end); -1: /dev/null
  // Its own process group: a Ctrl-C in the terminal reaches only the
  // parent, which decides how to stop the child.
  bool own_process_group = false;
  // SIGTERM when the parent dies (PR_SET_PDEATHSIG): a parent killed with
  // SIGKILL leaves no child behind holding its ports. Linux ties this to the
  // thread that forks, so spawn from a thread that lives as long as the parent.
  bool terminate_with_parent = false;
  std::string name;  // how the child's failure line names it
};

// Returns the child's pid; fails only when fork fails.
absl::StatusOr<pid_t> spawn_child(const ChildProcess& child);

}  // namespace reef::prod
