// `reefdb status`: a readable summary of one node (GET /status) and of the
// cluster's members as it sees them (GET /nodes).
//
//   reefdb status [--host HOST:PORT]
#pragma once

#include <iosfwd>
#include <string>
#include <vector>

#include "prod/http/http_client.h"

namespace reef::prod {

// `args` are the arguments after "status". Exit status: 0; 1 when the node
// cannot be reached or answers with an error; 2 for bad flags.
int run_status_command(const std::vector<std::string>& args);

// The work of the command, over streams: prints the summary of the node at
// `host` to `out`, or a one-line error to `err` and returns 1.
int print_node_status(const std::string& host, std::ostream& out, std::ostream& err,
                      HttpClientTimeouts timeouts = {});

}  // namespace reef::prod
