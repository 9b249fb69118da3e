#include "prod/shell/sql_shell_input.h"

#include <string>

#include "statemachine/statement_classifier.h"

namespace reef::prod {
namespace {

constexpr std::string_view kSentinel = "SELECT 0";

bool only_whitespace(std::string_view text) { return text.find_first_not_of(" \t\r\n\f\v") == std::string_view::npos; }

}  // namespace

// The trick: append a statement of our own on a new line. If the text was
// terminated, the classifier sees the sentinel as a statement of its own,
// starting exactly where it was put. If the last ';' was inside a comment
// (or there was none), the sentinel joins the unfinished statement; if a
// string, comment or trigger body is still open, classifying fails.
InputState classify_input(std::string_view text) {
  if (only_whitespace(text)) return InputState::kEmpty;
  if (text.size() >= statemachine::kMaxSqlBytes || text.find('\0') != std::string_view::npos) {
    return InputState::kComplete;
  }
  std::string probe(text);
  probe += '\n';
  const size_t sentinel_offset = probe.size();
  probe += kSentinel;
  const auto statements = statemachine::classify_statements(probe);
  if (!statements.ok() || statements->empty()) return InputState::kIncomplete;
  const statemachine::ClassifiedStatement& last = statements->back();
  if (last.offset != sentinel_offset || last.text != kSentinel) return InputState::kIncomplete;
  return statements->size() == 1 ? InputState::kEmpty : InputState::kComplete;
}

}  // namespace reef::prod
