#include "prod/shell/sql_shell_session.h"

#include <chrono>
#include <cstdio>
#include <istream>
#include <ostream>
#include <random>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "prod/shell/sql_shell_format.h"
#include "prod/shell/sql_shell_input.h"

namespace reef::prod {
namespace {

using Clock = std::chrono::steady_clock;

// Any id but 0 (which the API refuses); random so that two shells never
// share a session.
uint64_t random_client_id() {
  std::random_device device;
  std::mt19937_64 generator((uint64_t{device()} << 32) ^ device());
  uint64_t id = 0;
  while (id == 0) id = generator();
  return id;
}

std::string statement_body(std::string_view sql) { return nlohmann::json::array({std::string(sql)}).dump(); }

std::string elapsed_text(Clock::duration elapsed) {
  char text[64];
  std::snprintf(text, sizeof text, "Time: %.3f ms", std::chrono::duration<double, std::milli>(elapsed).count());
  return text;
}

}  // namespace

absl::StatusOr<std::string> parse_consistency(std::string_view level) {
  std::string lower = absl::AsciiStrToLower(std::string(level));
  if (lower == "none" || lower == "weak" || lower == "linearizable" || lower == "strong") return lower;
  return absl::InvalidArgumentError(
      absl::StrCat("unknown consistency level \"", std::string(level), "\": use none, weak, linearizable or strong"));
}

SqlShell::SqlShell(SqlShellOptions options, std::ostream& out, std::ostream& err)
    : options_(std::move(options)),
      out_(out),
      err_(err),
      cluster_(options_.host, options_.timeouts),
      history_(options_.interactive ? options_.history_path : ""),
      client_id_(random_client_id()) {
  cluster_.set_notice_handler([this](const std::string& notice) { err_ << "note: " << notice << "\n"; });
}

int SqlShell::run(std::istream& in) {
  if (options_.interactive) {
    if (absl::Status loaded = history_.load(); !loaded.ok()) err_ << "warning: " << loaded.message() << "\n";
    out_ << "reefdb sql: connected to " << cluster_.current() << " (consistency " << options_.consistency
         << "). Enter \".help\" for usage hints.\n";
  }
  // Learning the other members now is what makes failing over possible
  // later, when this node may no longer answer. Best effort: a node that
  // cannot be reached yet is reported by the first statement.
  const absl::Status refreshed = cluster_.refresh_nodes();
  if (options_.interactive && !refreshed.ok()) err_ << "warning: " << refreshed.message() << "\n";
  std::string line;
  while (true) {
    if (options_.interactive) out_ << prompt() << std::flush;
    if (!std::getline(in, line)) break;
    if (handle_line(line) == Next::kQuit) return failed_ && !options_.interactive ? 1 : 0;
  }
  if (options_.interactive) out_ << "\n";
  if (!absl::StripAsciiWhitespace(pending_sql_).empty()) {
    report_error(absl::StrCat("incomplete input (a statement must end with ';'): ",
                              absl::StripAsciiWhitespace(pending_sql_)));
  }
  return failed_ && !options_.interactive ? 1 : 0;
}

std::string SqlShell::prompt() const {
  const std::string full = cluster_.current() + "> ";
  if (pending_sql_.empty()) return full;
  // Continuation lines line up with the first one.
  return std::string(full.size() > 5 ? full.size() - 5 : 0, ' ') + "...> ";
}

SqlShell::Next SqlShell::handle_line(const std::string& line) {
  if (pending_sql_.empty()) {
    const absl::string_view trimmed = absl::StripAsciiWhitespace(line);
    if (trimmed.empty()) return Next::kContinue;
    if (trimmed.front() == '.') {
      remember(std::string(trimmed));
      return run_dot_command(std::string(trimmed));
    }
  }
  pending_sql_ += line;
  pending_sql_ += '\n';
  switch (classify_input(pending_sql_)) {
    case InputState::kIncomplete:
      return Next::kContinue;
    case InputState::kEmpty:
      pending_sql_.clear();
      return Next::kContinue;
    case InputState::kComplete:
      remember(pending_sql_);
      run_pending_sql();
      return Next::kContinue;
  }
  return Next::kContinue;
}

void SqlShell::run_pending_sql() {
  const std::string sql = std::move(pending_sql_);
  pending_sql_.clear();
  absl::StatusOr<std::vector<statemachine::ClassifiedStatement>> statements = statemachine::classify_statements(sql);
  if (!statements.ok()) return report_error(statements.status().message());
  for (const statemachine::ClassifiedStatement& statement : *statements) run_statement(statement);
}

void SqlShell::run_statement(const statemachine::ClassifiedStatement& statement) {
  if (!statemachine::check_allowed({statement}).ok()) {
    // Refused here with the classifier's reason; the node would refuse it too.
    return report_error(absl::StrCat("refused: ", std::string(statement.reason)));
  }
  const Clock::time_point started = Clock::now();
  const absl::StatusOr<http::HttpResponse> answer =
      send_statement(statement.text, statement.kind == statemachine::StatementKind::kRead);
  const Clock::duration elapsed = Clock::now() - started;
  print_answer(answer);
  if (timer_) out_ << elapsed_text(elapsed) << "\n";
}

absl::StatusOr<http::HttpResponse> SqlShell::send_statement(std::string_view sql, bool read) {
  if (read) return cluster_.request("POST", absl::StrCat("/db/query?level=", options_.consistency), statement_body(sql));
  const std::string target = absl::StrCat("/db/execute?client_id=", client_id_, "&seq=", next_seq_++);
  return cluster_.request("POST", target, statement_body(sql));
}

void SqlShell::print_answer(const absl::StatusOr<http::HttpResponse>& answer) {
  if (!answer.ok()) return report_error(answer.status().message());
  if (answer->status != 200) {
    failed_ = true;
    err_ << format_error_response(answer->status, answer->body);
    return;
  }
  const nlohmann::json body = nlohmann::json::parse(answer->body, nullptr, false);
  if (!body.is_object() || !body.contains("results") || !body["results"].is_array()) {
    return report_error(absl::StrCat("unexpected answer from ", cluster_.current(), ": ", answer->body.substr(0, 200)));
  }
  for (const nlohmann::json& entry : body["results"]) {
    const bool failed = entry.is_object() && entry.contains("error");
    failed_ = failed_ || failed;
    (failed ? err_ : out_) << format_result(entry);
  }
}

void SqlShell::report_error(absl::string_view message) {
  failed_ = true;
  err_ << "error: " << message << "\n";
}

void SqlShell::remember(std::string_view entry) {
  if (!options_.interactive) return;
  const absl::Status added = history_.add(entry);
  if (!added.ok() && !history_warned_) {
    history_warned_ = true;
    err_ << "warning: " << added.message() << "\n";
  }
}

int run_sql_shell_session(std::istream& in, std::ostream& out, const SqlShellOptions& options) {
  SqlShell shell(options, out, out);
  return shell.run(in);
}

}  // namespace reef::prod
