// When the shell has read a whole statement. Lines are gathered until the
// text ends with a top-level ';' (not one inside a string, a comment or a
// trigger body), as sqlite3's shell does, so statements may span lines and
// one line may hold several statements.
#pragma once

#include <string_view>

namespace reef::prod {

enum class InputState {
  kIncomplete,  // keep reading lines
  kComplete,    // run it: every statement is terminated (or it cannot be, see below)
  kEmpty,       // only whitespace, comments and ';': nothing to run
};

// Lexing follows statemachine/statement_classifier.h. Text the classifier
// can never accept however much follows (a NUL byte, more than kMaxSqlBytes)
// counts as complete, so running it reports the error instead of waiting
// forever.
InputState classify_input(std::string_view text);

}  // namespace reef::prod
