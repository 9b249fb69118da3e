// The commands `reefdb dev-cluster` reads on its stdin, one a line, while
// its nodes run: how a user brings back a node that exited (or stops one
// to watch a leader change) without restarting the whole cluster.
#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace reef::prod {

struct ConsoleCommand {
  enum class Kind {
    kNone,     // an empty line
    kStatus,   // status: each node, its pid, running or how it exited
    kRestart,  // restart N
    kStop,     // stop N
    kHelp,     // help
    kInvalid,  // anything else; `error` says what is wrong in one line
  };
  Kind kind = Kind::kNone;
  int node = 0;  // 1..nodes for kRestart and kStop
  std::string error;
};

// `nodes`: how many the cluster has (node numbers are 1..nodes).
ConsoleCommand parse_console_command(absl::string_view line, int nodes);

// The `help` answer, a few lines ending in a newline.
extern const char kConsoleHelp[];

}  // namespace reef::prod
