// reefdb-commit-without-quorum: `reefdb serve` with one deliberate bug — the
// leader commits what its own disk holds without waiting for a majority
// (raft::InjectedBugs::commit_without_quorum), so it acknowledges writes a
// new leader may lack. cluster_process_test runs a cluster of these to show
// that its kill-the-leader check catches lost acknowledged writes. A test
// binary: it is never installed, and `reefdb` itself cannot switch bugs on.
//
//   reefdb-commit-without-quorum serve [reefdb serve arguments]
#include <cstdio>
#include <string>
#include <vector>

#include "prod/server/serve_command.h"

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) != "serve") {
    std::fprintf(stderr, "usage: %s serve [reefdb serve arguments]\n", argv[0]);
    return 2;
  }
  const std::vector<std::string> args(argv + 2, argv + argc);
  return reef::prod::run_serve_command(
      args, [](reef::raft::NodeConfig& config) { config.core.bugs.commit_without_quorum = true; });
}
