#include "prod/shell/node_command.h"

#include <iostream>
#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/shell/sql_shell_args.h"
#include "prod/shell/sql_shell_cluster_client.h"
#include "prod/shell/sql_shell_format.h"

namespace reef::prod {
namespace {

constexpr std::string_view kUsage = R"(usage: reefdb node COMMAND [ID] [FLAGS]

Lists and changes the members of a ReefDB cluster (docs/CLUSTER.md).

  list
      every member: addresses, role, reachability and, asked of the leader,
      how far each one is behind (match, lag)
  add ID --raft-addr HOST:PORT [--http-addr HOST:PORT] [--role voter|learner]
      add node ID at those addresses, then start it with `reefdb serve --join`
      (which can also add it by itself). It enters as a learner; a voter
      (the default role) is promoted once it caught up
  promote ID
      make learner ID a voter now
  demote ID
      make voter ID a learner (it stays one)
  remove ID
      remove node ID, a dead one too; its id is retired
      (docs/CLUSTER.md#replacing-a-dead-machine)

Flags:
  --host HOST:PORT  any member's HTTP address (default 127.0.0.1:4001); changes
                    are sent on to the leader
  --help            show this text
)";

int usage(std::ostream& err, std::string_view problem) {
  err << "reefdb node: " << problem << "\n\n" << kUsage;
  return 2;
}

// Prints the answer of a change, or its error; the exit status.
int report(const absl::StatusOr<http::HttpResponse>& answer, std::ostream& out, std::ostream& err) {
  if (!answer.ok()) {
    err << "reefdb node: " << answer.status().message() << "\n";
    return 1;
  }
  if (answer->status != 200) {
    err << "reefdb node: " << describe_error_response(answer->status, answer->body) << "\n";
    return 1;
  }
  const nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  out << "configuration: " << (body.is_object() ? body.value("configuration", "?") : "?") << "\n";
  return 0;
}

}  // namespace

int run_node_command(const std::vector<std::string>& args, std::ostream& out, std::ostream& err,
                     HttpClientTimeouts timeouts) {
  if (args.empty()) return usage(err, "no command given");
  const std::string& command = args[0];
  if (command == "--help" || command == "-h" || command == "help") {
    out << kUsage;
    return 0;
  }
  const bool needs_id = command == "add" || command == "promote" || command == "demote" || command == "remove";
  if (!needs_id && command != "list") return usage(err, absl::StrCat("unknown command \"", command, "\""));
  uint64_t id = 0;
  size_t flags_from = 1;
  if (needs_id) {
    if (args.size() < 2 || !absl::SimpleAtoi(args[1], &id) || id == 0) {
      return usage(err, absl::StrCat(command, " needs a node id (a positive integer)"));
    }
    flags_from = 2;
  }
  const std::vector<std::string> rest(args.begin() + static_cast<std::ptrdiff_t>(flags_from), args.end());
  const absl::StatusOr<CliFlags> flags = command == "add"
                                             ? parse_cli_flags(rest, {"host", "raft-addr", "http-addr", "role"})
                                             : parse_cli_flags(rest, {"host"});
  if (!flags.ok()) return usage(err, std::string(flags.status().message()));
  if (flags->help) {
    out << kUsage;
    return 0;
  }
  ClusterClient client(flags->value_or("host", "127.0.0.1:4001"), timeouts);
  const std::string node = absl::StrCat("/nodes/", id);
  if (command == "list") {
    absl::StatusOr<http::HttpResponse> answer = client.request("GET", "/nodes");
    if (!answer.ok() || answer->status != 200) return report(answer, out, err);
    out << format_nodes(nlohmann::json::parse(answer->body, nullptr, false));
    return 0;
  }
  if (command == "add") {
    const std::string raft_address = flags->value_or("raft-addr", "");
    if (raft_address.empty()) return usage(err, "add needs --raft-addr HOST:PORT (where the other nodes reach it)");
    const std::string role = flags->value_or("role", "voter");
    if (role != "voter" && role != "learner") return usage(err, "--role is voter or learner");
    const nlohmann::json body = {{"addr", raft_address}, {"api_addr", flags->value_or("http-addr", "")}};
    return report(client.request("POST", absl::StrCat(node, "/add?role=", role), body.dump()), out, err);
  }
  if (command == "remove") return report(client.request("DELETE", node), out, err);
  return report(client.request("POST", absl::StrCat(node, "/", command)), out, err);
}

int run_node_command(const std::vector<std::string>& args) {
  return run_node_command(args, std::cout, std::cerr);
}

}  // namespace reef::prod
