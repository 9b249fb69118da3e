// The shell's dot commands. Schema commands are ordinary reads of
// sqlite_master at the shell's consistency level. ReefDB's own bookkeeping
// (the exactly-once sessions) lives outside the user's schema, so
// sqlite_master shows none of it; the reef_sessions filter stays for servers
// from before that change, which kept the table in main.
#include <ostream>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "prod/shell/sql_shell_format.h"
#include "prod/shell/sql_shell_session.h"

namespace reef::prod {
namespace {

constexpr std::string_view kHelp = R"(.consistency [LEVEL]  show or set the read consistency: none, weak, linearizable, strong
.exit                 leave the shell (so does .quit, or the end of input)
.help                 show this text
.history              list the statements entered (this and earlier sessions)
.indexes [TABLE]      list the indexes (of TABLE)
.nodes                list the cluster's nodes
.quit                 leave the shell
.remove ID            remove node ID from the cluster (docs/CLUSTER.md)
.schema [TABLE]       show the CREATE statements (of TABLE)
.status               show the status of the node the shell talks to
.tables               list the tables and views
.timer on|off         print how long each statement took
SQL statements end with ';' and may span lines. Reads go to /db/query at the
chosen consistency, everything else to /db/execute; the shell follows the
leader and fails over to the other nodes on its own.
)";

constexpr absl::string_view kNotInternal = "tbl_name <> 'reef_sessions' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'";

}  // namespace

SqlShell::Next SqlShell::run_dot_command(std::string_view line) {
  std::vector<std::string> words = absl::StrSplit(std::string(line), absl::ByAnyChar(" \t"), absl::SkipEmpty());
  const std::string command = words.front();
  const std::vector<std::string> args(words.begin() + 1, words.end());
  if (command == ".quit" || command == ".exit") return Next::kQuit;
  if (command == ".tables") {
    command_tables();
  } else if (command == ".schema") {
    command_schema(args);
  } else if (command == ".indexes" || command == ".indices") {
    command_indexes(args);
  } else if (command == ".status") {
    command_status();
  } else if (command == ".nodes") {
    command_nodes();
  } else if (command == ".remove") {
    command_remove(args);
  } else if (command == ".consistency") {
    command_consistency(args);
  } else if (command == ".timer") {
    command_timer(args);
  } else if (command == ".history") {
    command_history();
  } else if (command == ".help") {
    command_help();
  } else {
    report_error(absl::StrCat("unknown command \"", command, "\"; enter \".help\" for the list"));
  }
  return Next::kContinue;
}

absl::StatusOr<nlohmann::json> SqlShell::query_entry(const std::string& sql, const std::vector<std::string>& params) {
  nlohmann::json statement = nlohmann::json::array({sql});
  for (const std::string& param : params) statement.push_back(param);
  const std::string body = nlohmann::json::array({statement}).dump();
  absl::StatusOr<http::HttpResponse> answer =
      cluster_.request("POST", absl::StrCat("/db/query?level=", options_.consistency), body);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) return absl::UnavailableError(describe_error_response(answer->status, answer->body));
  const nlohmann::json parsed = nlohmann::json::parse(answer->body, nullptr, false);
  if (!parsed.is_object() || !parsed.contains("results") || !parsed["results"].is_array() ||
      parsed["results"].empty() || !parsed["results"][0].is_object()) {
    return absl::InternalError(absl::StrCat("unexpected answer from ", cluster_.current()));
  }
  const nlohmann::json& entry = parsed["results"][0];
  if (entry.contains("error")) {
    const std::string line = format_result(entry);  // "error: ... (code)\n"
    return absl::InternalError(absl::StripSuffix(absl::StripPrefix(line, "error: "), "\n"));
  }
  return entry;
}

namespace {

// The first column of every row, as text.
std::vector<std::string> first_column(const nlohmann::json& entry) {
  std::vector<std::string> values;
  const auto rows = entry.find("values");
  if (rows == entry.end() || !rows->is_array()) return values;
  for (const nlohmann::json& row : *rows) {
    if (row.is_array() && !row.empty()) values.push_back(row[0].is_string() ? row[0].get<std::string>() : "");
  }
  return values;
}

}  // namespace

void SqlShell::command_tables() {
  const absl::StatusOr<nlohmann::json> entry = query_entry(
      absl::StrCat("SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND ", kNotInternal,
                   " ORDER BY name"),
      {});
  if (!entry.ok()) return report_error(entry.status().message());
  for (const std::string& name : first_column(*entry)) out_ << name << "\n";
}

void SqlShell::command_schema(const std::vector<std::string>& args) {
  if (args.size() > 1) return report_error("usage: .schema [TABLE]");
  std::string sql = absl::StrCat("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL AND ", kNotInternal);
  if (!args.empty()) sql += " AND tbl_name = ?";
  sql += " ORDER BY tbl_name, type <> 'table', name";
  const absl::StatusOr<nlohmann::json> entry = query_entry(sql, args);
  if (!entry.ok()) return report_error(entry.status().message());
  for (const std::string& create : first_column(*entry)) out_ << create << ";\n";
}

void SqlShell::command_indexes(const std::vector<std::string>& args) {
  if (args.size() > 1) return report_error("usage: .indexes [TABLE]");
  std::string sql = absl::StrCat("SELECT name FROM sqlite_master WHERE type = 'index' AND ", kNotInternal);
  if (!args.empty()) sql += " AND tbl_name = ?";
  sql += " ORDER BY name";
  const absl::StatusOr<nlohmann::json> entry = query_entry(sql, args);
  if (!entry.ok()) return report_error(entry.status().message());
  for (const std::string& name : first_column(*entry)) out_ << name << "\n";
}

absl::StatusOr<nlohmann::json> SqlShell::get_json(std::string_view path) {
  absl::StatusOr<http::HttpResponse> answer = cluster_.request("GET", path);
  if (!answer.ok()) return answer.status();
  if (answer->status != 200) return absl::UnavailableError(describe_error_response(answer->status, answer->body));
  nlohmann::json parsed = nlohmann::json::parse(answer->body, nullptr, false);
  if (parsed.is_discarded()) {
    return absl::InternalError(absl::StrCat("GET ", std::string(path), " on ", cluster_.current(), " did not answer JSON"));
  }
  return parsed;
}

void SqlShell::command_status() {
  const absl::StatusOr<nlohmann::json> status = get_json("/status");
  if (!status.ok()) return report_error(status.status().message());
  out_ << status->dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void SqlShell::command_nodes() {
  const absl::StatusOr<nlohmann::json> nodes = get_json("/nodes");
  if (!nodes.ok()) return report_error(nodes.status().message());
  cluster_.learn_nodes(nodes->dump());
  out_ << format_nodes(*nodes);
}

// Sent to whichever node the shell talks to; the cluster client follows
// the redirect to the leader.
void SqlShell::command_remove(const std::vector<std::string>& args) {
  uint64_t id = 0;
  if (args.size() != 1 || !absl::SimpleAtoi(args[0], &id) || id == 0) return report_error("usage: .remove ID");
  absl::StatusOr<http::HttpResponse> answer = cluster_.request("DELETE", absl::StrCat("/nodes/", id));
  if (!answer.ok()) return report_error(answer.status().message());
  if (answer->status != 200) return report_error(describe_error_response(answer->status, answer->body));
  const nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  out_ << "node " << id << " removed: " << (body.is_object() ? body.value("configuration", "?") : "?") << "\n";
}

void SqlShell::command_consistency(const std::vector<std::string>& args) {
  if (args.size() > 1) return report_error("usage: .consistency [none|weak|linearizable|strong]");
  if (args.empty()) {
    out_ << options_.consistency << "\n";
    return;
  }
  absl::StatusOr<std::string> level = parse_consistency(args[0]);
  if (!level.ok()) return report_error(level.status().message());
  options_.consistency = *level;
}

void SqlShell::command_timer(const std::vector<std::string>& args) {
  if (args.size() != 1 || (args[0] != "on" && args[0] != "off")) return report_error("usage: .timer on|off");
  timer_ = args[0] == "on";
}

void SqlShell::command_history() {
  size_t number = 1;
  for (const std::string& entry : history_.entries()) out_ << number++ << "  " << entry << "\n";
}

void SqlShell::command_help() { out_ << kHelp; }

}  // namespace reef::prod
