// reefdb: the ReefDB server and its tools in one command.
//
//   reefdb serve [--config FILE] [--SETTING VALUE]...   run one node
//   reefdb dev-cluster [--nodes N] [--dir DIR]          a local cluster in one command
//   reefdb sql [--host H:P]                             interactive SQL shell
//   reefdb status [--host H:P]                          one node's view of the cluster
//   reefdb node list|add|promote|demote|remove          the cluster's members
//   reefdb storage verify|dump DIR                      inspect a data directory (read-only)
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "prod/disk/storage_tool.h"
#include "prod/server/dev_cluster_command.h"
#include "prod/server/serve_command.h"
#include "prod/shell/node_command.h"
#include "prod/shell/sql_shell.h"
#include "prod/shell/status_command.h"

namespace {

constexpr char kUsage[] =
    "Usage: reefdb COMMAND [ARGS]\n"
    "\n"
    "Commands:\n"
    "  serve         Run one node (reefdb serve --help lists every setting).\n"
    "  dev-cluster   Start a local 3-node cluster in one command; Ctrl-C stops it.\n"
    "  sql           Interactive SQL shell against a node (follows leader changes).\n"
    "  status        Show one node's view of the cluster.\n"
    "  node          list|add|promote|demote|remove: the cluster's members (docs/CLUSTER.md).\n"
    "  storage       verify|dump DIR: inspect a node's data directory without changing it.\n"
    "\n"
    "Quick start:\n"
    "  reefdb dev-cluster            # in one terminal\n"
    "  reefdb sql                    # in another: connects to 127.0.0.1:4001\n"
    "\n"
    "Docs: README.md, docs/CLI.md, docs/HTTP_API.md, docs/CONFIGURATION.md, docs/CLUSTER.md\n";

int usage_error(const char* message) {
  std::fprintf(stderr, "reefdb: %s\n\n%s", message, kUsage);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage_error("no command given");
  const std::string command = argv[1];
  const std::vector<std::string> rest(argv + 2, argv + argc);
  if (command == "-h" || command == "--help" || command == "help") {
    std::printf("%s", kUsage);
    return 0;
  }
  if (command == "serve") return reef::prod::run_serve_command(rest);
  if (command == "dev-cluster") return reef::prod::run_dev_cluster_command(rest);
  if (command == "storage") return reef::prod::run_storage_tool(argc - 1, argv + 1);
  if (command == "sql") return reef::prod::run_sql_shell(rest);
  if (command == "status") return reef::prod::run_status_command(rest);
  if (command == "node") return reef::prod::run_node_command(rest);
  return usage_error(("unknown command '" + command + "'").c_str());
}
