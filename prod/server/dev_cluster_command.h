// `reefdb dev-cluster`: a local cluster in one command, for trying ReefDB
// and for tests. Starts N `reefdb serve` processes on 127.0.0.1 (node i:
// HTTP on base_port + 2(i-1), Raft on base_port + 2(i-1) + 1 — rqlite's
// 4001/4002 habit), each with its data in DIR/node-i and its log in
// DIR/node-i.log, prints the endpoints and an example, and on Ctrl-C
// (SIGINT) or SIGTERM stops every node with SIGTERM (so a leader hands over
// first) and waits for them. A node that exits on its own is reported (pid,
// exit status or signal, log) and the others keep running; typing
// `restart N` on stdin brings it back, and the report prints the equivalent
// `reefdb serve` command line (commands: prod/server/dev_cluster_console.h).
#pragma once

#include <string>
#include <vector>

namespace reef::prod {

// args: everything after "dev-cluster".
int run_dev_cluster_command(const std::vector<std::string>& args);

}  // namespace reef::prod
