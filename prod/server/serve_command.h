// `reefdb serve`: run one node of a cluster until SIGTERM/SIGINT.
//
// Startup: load the configuration (defaults < YAML < REEFDB_* < flags,
// prod/config/server_config_sources.h), recover and boot the node (ServerNode),
// listen for peers and for HTTP clients, log every setting once.
// Shutdown on SIGTERM or SIGINT: a leader first hands leadership to another
// member and waits (at most an election timeout) until it has stepped
// down, so clients see a short leader change instead of an election
// timeout; then the HTTP port and the transport close and the process
// exits 0. Acknowledged writes are durable before they are acknowledged, so
// SIGKILL at any moment loses none of them either.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "raft/driver/node.h"

namespace reef::prod {

// args: everything after "serve". Exit status: 0 after a clean shutdown,
// 1 when the node cannot start or stops on a disk error, 2 for a bad
// configuration or command line.
int run_serve_command(const std::vector<std::string>& args);

// The same, with `adjust` applied to the node's configuration after it was
// built from the settings. For test binaries only (tests/prod: a reefdb
// with a deliberate bug, raft/core/injected_bugs.h); the reefdb command never
// passes one, so no setting can reach those switches.
using NodeConfigAdjustment = std::function<void(raft::NodeConfig&)>;
int run_serve_command(const std::vector<std::string>& args, const NodeConfigAdjustment& adjust);

}  // namespace reef::prod
