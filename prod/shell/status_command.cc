#include "prod/shell/status_command.h"

#include <iostream>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/shell/sql_shell_args.h"
#include "prod/shell/sql_shell_format.h"

namespace reef::prod {
namespace {

constexpr std::string_view kUsage = R"(usage: reefdb status [--host HOST:PORT]

Prints a summary of one ReefDB node (role, term, leader, log indexes) and the
cluster's members as that node knows them.

  --host HOST:PORT  the node to ask (default 127.0.0.1:4001)
  --help            show this text
)";

absl::StatusOr<nlohmann::json> get_json(HttpClient& client, std::string_view path) {
  absl::StatusOr<http::HttpResponse> answer = client.request("GET", path);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET ", std::string(path), " on ", client.host_port(), ": ",
                                               describe_error_response(answer->status, answer->body)));
  }
  nlohmann::json parsed = nlohmann::json::parse(answer->body, nullptr, false);
  if (!parsed.is_object()) {
    return absl::InternalError(absl::StrCat("GET ", std::string(path), " on ", client.host_port(), " did not answer a JSON object"));
  }
  return parsed;
}

// A field as text whatever its JSON type; "?" when missing, so a node of
// another version still gets a summary.
std::string field(const nlohmann::json& object, const char* name) {
  if (!object.is_object() || !object.contains(name)) return "?";
  const nlohmann::json& value = object[name];
  return value.is_string() ? value.get<std::string>() : value.dump();
}

std::string leader_line(const nlohmann::json& raft) {
  if (!raft.is_object() || !raft.contains("leader") || raft["leader"].is_null()) return "none known";
  const nlohmann::json& leader = raft["leader"];
  std::string line = absl::StrCat("node ", field(leader, "node_id"));
  if (const std::string address = field(leader, "api_addr"); address != "?" && !address.empty()) {
    absl::StrAppend(&line, " at ", address);
  }
  return line;
}

void print_summary(const std::string& host, const nlohmann::json& status, std::ostream& out) {
  const nlohmann::json raft = status.contains("raft") ? status["raft"] : nlohmann::json::object();
  out << "node      " << field(status, "node_id") << " at " << host;
  if (status.contains("cluster")) out << " (cluster " << field(status, "cluster") << ")";
  out << "\n";
  out << "role      " << field(raft, "role") << ", term " << field(raft, "term");
  if (raft.value("stopped", false)) out << " (stopped)";
  out << "\n";
  out << "leader    " << leader_line(raft) << "\n";
  out << "log       commit " << field(raft, "commit_index") << ", applied " << field(raft, "applied_index")
      << ", last " << field(raft, "last_index") << ", snapshot " << field(raft, "snapshot_index") << "\n";
  out << "pending   " << field(raft, "pending_requests") << " request(s)\n";
}

}  // namespace

int print_node_status(const std::string& host, std::ostream& out, std::ostream& err, HttpClientTimeouts timeouts) {
  HttpClient client(host, timeouts);
  const absl::StatusOr<nlohmann::json> status = get_json(client, "/status");
  if (!status.ok()) {
    err << "reefdb status: " << status.status().message() << "\n";
    return 1;
  }
  print_summary(host, *status, out);
  const absl::StatusOr<nlohmann::json> nodes = get_json(client, "/nodes");
  if (!nodes.ok()) {
    out << "members   unknown (" << nodes.status().message() << ")\n";
    return 0;
  }
  out << "members   " << nodes->size() << "\n" << format_nodes(*nodes);
  return 0;
}

int run_status_command(const std::vector<std::string>& args) {
  const absl::StatusOr<CliFlags> flags = parse_cli_flags(args, {"host"});
  if (!flags.ok()) {
    std::cerr << "reefdb status: " << flags.status().message() << "\n" << kUsage;
    return 2;
  }
  if (flags->help) {
    std::cout << kUsage;
    return 0;
  }
  return print_node_status(flags->value_or("host", "127.0.0.1:4001"), std::cout, std::cerr);
}

}  // namespace reef::prod
