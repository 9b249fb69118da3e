// libFuzzer target: arbitrary bytes -> classify_statements()
// (statemachine/statement_classifier.h), the text a client sends to the
// leader. Never crash (the classifier's REEF_ASSERTs abort); and:
//   - an error is INVALID_ARGUMENT with a message;
//   - on success the statements are non-empty slices of the input at their
//     offsets, in order, not overlapping, with no surrounding whitespace;
//     a reason exactly for the refused kinds; each slice classified on its own
//     is one statement: itself, with the same kind;
//   - the classifier accepts the text exactly when SQLite's sqlite3_complete()
//     calls it complete once "\n;" is appended (the newline closes a trailing
//     line comment). Skipped for text with a NUL (SQLite stops there) or a
//     \v (SQLite's tokenizer treats it as space, sqlite3_complete() does not).
#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "statemachine/statement_classifier.h"

namespace {

using reef::statemachine::ClassifiedStatement;
using reef::statemachine::StatementKind;

[[noreturn]] void fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "statement_classifier_fuzzer: %s: %.*s\n", what,
               static_cast<int>(detail.size()), detail.data());
  __builtin_trap();
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

void check_statement(std::string_view sql, const ClassifiedStatement& s, std::size_t previous_end) {
  if (s.text.empty()) fail("empty statement", sql);
  if (s.offset < previous_end) fail("statements overlap or are out of order", s.text);
  if (s.offset > sql.size() || s.text.size() > sql.size() - s.offset) fail("slice past the end", s.text);
  if (s.text.data() != sql.data() + s.offset) fail("text is not the input at offset", s.text);
  if (is_space(s.text.front()) || is_space(s.text.back())) fail("untrimmed statement", s.text);
  const bool runs = s.kind == StatementKind::kRead || s.kind == StatementKind::kWrite;
  if (runs != s.reason.empty()) fail("reason does not match kind", s.text);
  const auto again = reef::statemachine::classify_statements(s.text);
  if (!again.ok()) fail("a statement's own text fails", again.status().ToString());
  if (again->size() != 1 || (*again)[0].text != s.text || (*again)[0].kind != s.kind) {
    fail("a statement's own text classifies differently", s.text);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view sql(reinterpret_cast<const char*>(data), size);
  const auto result = reef::statemachine::classify_statements(sql);
  bool accepted = result.ok();
  if (!result.ok()) {
    if (result.status().code() != absl::StatusCode::kInvalidArgument) {
      fail("unexpected status code", result.status().ToString());
    }
    if (result.status().message().empty()) fail("error without a message", sql);
    accepted = result.status().message().find("no statement") != absl::string_view::npos;
  } else {
    if (result->empty()) fail("success without statements", sql);
    std::size_t previous_end = 0;
    for (const ClassifiedStatement& s : *result) {
      check_statement(sql, s, previous_end);
      previous_end = s.offset + s.text.size();
    }
    (void)reef::statemachine::check_allowed(*result);
    (void)reef::statemachine::all_reads(*result);
  }
  if (sql.find('\0') == std::string_view::npos && sql.find('\v') == std::string_view::npos &&
      size <= reef::statemachine::kMaxSqlBytes) {
    const bool complete = sqlite3_complete((std::string(sql) + "\n;").c_str()) != 0;
    if (accepted != complete) {
      fail(accepted ? "accepted, but sqlite3_complete() disagrees"
                    : "rejected, but sqlite3_complete() accepts",
           result.ok() ? std::string_view("ok") : std::string_view(result.status().message().data(),
                                                                   result.status().message().size()));
    }
  }
  return 0;
}
