// SQLite's own verdict on the syntax of SQL text, before it reaches a
// replica. The statement classifier is lexical and deliberately coarse: text
// it cannot make sense of is a "write" to it, so a typo like `SELEC * FROM t`
// would be reported as "not a read" on a read endpoint, and one bad statement
// among several as "the SQL holds 2 statements". Callers ask this instead
// whenever the classifier's verdict is about to become an error, so the
// client sees what SQLite says (`near "SELEC": syntax error`).
//
// How. The text is prepared, statement by statement, on a private in-memory
// connection that has no schema (one per thread, never stepped, so nothing
// runs). Only the parser's own errors are reported: a syntax error, an
// unrecognized token, incomplete input. Errors that need the schema (no such
// table, ...) say nothing here about the real database, so they end the
// check without a verdict, and so does any statement after one (where the
// next statement starts is only known once the previous one parsed).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace reef::statemachine {

// SQLite's syntax error message for the first statement of `sql` its parser
// rejects, or nullopt when no statement is rejected for its syntax.
std::optional<std::string> sqlite_syntax_error(std::string_view sql);

}  // namespace reef::statemachine
