// `reefdb node`: list and change a cluster's members over HTTP
// (docs/CLUSTER.md, docs/CLI.md).
//
//   reefdb node list                       [--host H:P]
//   reefdb node add ID --raft-addr H:P [--http-addr H:P] [--role voter|learner] [--host H:P]
//   reefdb node promote ID                 [--host H:P]
//   reefdb node demote ID                  [--host H:P]
//   reefdb node remove ID                  [--host H:P]
//
// Any member may be named with --host: the client follows redirects and
// "not leader" answers to the leader, as the SQL shell does.
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "prod/http/http_client.h"

namespace reef::prod {

// `args` are the arguments after "node". Exit status: 0 done; 1 the node
// could not be reached or refused (its message printed); 2 bad usage.
int run_node_command(const std::vector<std::string>& args);

// The same over streams, for tests.
int run_node_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                     HttpClientTimeouts timeouts = {});

}  // namespace reef::prod
