// SqlShell: the interactive SQL shell of `reefdb sql`, over streams so it
// runs the same at a terminal, from a pipe and in tests.
//
// Input is read line by line. Lines starting with '.' (when no statement is
// pending) are dot commands (sql_shell_commands.cc); everything else is SQL,
// gathered until it ends with a top-level ';' (sql_shell_input.h) and then
// run statement by statement, each in its own request: reads (as
// statemachine/statement_classifier.h says) to /db/query at the chosen
// consistency level, everything else to /db/execute with an exactly-once
// id, so resending after a lost connection cannot apply a write twice.
//
// Interactive mode prints a banner and prompts ("127.0.0.1:4001> ", the node
// currently talked to) and keeps the history; otherwise the shell reads
// silently, as scripts piping SQL in want, and exits 1 when anything failed.
#pragma once

#include <chrono>
#include <cstdint>
#include <iosfwd>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"
#include "prod/http/http_client.h"
#include "prod/shell/sql_shell_cluster_client.h"
#include "prod/shell/sql_shell_history.h"
#include "statemachine/statement_classifier.h"

namespace reef::prod {

// The server's default HTTP address (prod/config/server_config.h: kDefaultHost,
// kDefaultHttpPort), which `reefdb sql` and `reefdb status` talk to unless told.
inline constexpr std::string_view kDefaultServerAddress = "127.0.0.1:4001";

struct SqlShellOptions {
  std::string host = std::string(kDefaultServerAddress);
  std::string consistency = "weak";  // none | weak | linearizable | strong
  bool interactive = false;          // banner, prompts, history
  std::string history_path;          // empty: history in memory only
  HttpClientTimeouts timeouts;
};

// A known read consistency level, lower-cased; INVALID_ARGUMENT otherwise.
absl::StatusOr<std::string> parse_consistency(std::string_view level);

class SqlShell {
 public:
  // Results go to `out`; errors and notices (leader changes) to `err`
  // (which may be `out`).
  SqlShell(SqlShellOptions options, std::ostream& out, std::ostream& err);

  // Reads until end of input or .quit/.exit. Returns the exit status: 0, or 1
  // when not interactive and a statement or command failed.
  int run(std::istream& in);

 private:
  enum class Next { kContinue, kQuit };

  Next handle_line(const std::string& line);
  std::string prompt() const;
  void run_pending_sql();
  void run_statement(const statemachine::ClassifiedStatement& statement);
  absl::StatusOr<http::HttpResponse> send_statement(std::string_view sql, bool read);
  void print_answer(const absl::StatusOr<http::HttpResponse>& answer);
  void report_error(absl::string_view message);
  void remember(std::string_view entry);

  // Dot commands (sql_shell_commands.cc).
  Next run_dot_command(std::string_view line);
  void command_tables();
  void command_schema(const std::vector<std::string>& args);
  void command_indexes(const std::vector<std::string>& args);
  void command_status();
  void command_nodes();
  void command_remove(const std::vector<std::string>& args);
  void command_consistency(const std::vector<std::string>& args);
  void command_timer(const std::vector<std::string>& args);
  void command_history();
  void command_help();
  // Runs one read with positional parameters and returns its result entry
  // (an error for a failed request or statement).
  absl::StatusOr<nlohmann::json> query_entry(const std::string& sql, const std::vector<std::string>& params);
  // GET `path` as JSON.
  absl::StatusOr<nlohmann::json> get_json(std::string_view path);

  SqlShellOptions options_;
  std::ostream& out_;
  std::ostream& err_;
  ClusterClient cluster_;
  ShellHistory history_;
  std::string pending_sql_;  // lines of a statement not yet terminated
  bool timer_ = false;
  bool failed_ = false;
  bool history_warned_ = false;
  // Exactly-once ids of writes: a random client per shell, increasing seq.
  uint64_t client_id_ = 0;
  uint64_t next_seq_ = 1;
};

// The same, from `in` to `out` (errors included).
int run_sql_shell_session(std::istream& in, std::ostream& out, const SqlShellOptions& options);

}  // namespace reef::prod
