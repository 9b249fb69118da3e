// Statement classifier: splits one SQL string into its statements and says,
// for each, whether it reads, writes, or must not run at all. The leader uses
// it to decide what to propose (writes go through the log; a string of reads
// only can take the read path) and to refuse what the state machine cannot
// apply deterministically before it ever reaches the log.
//
// Why lexical. The leader may classify before a table exists (the CREATE is
// in the same batch, or not yet applied on this node), so nothing here may
// need a schema or a database connection. The tokenizer follows SQLite's
// lexical rules: `--` and `/* */` comments, 'string' with '' escapes,
// "identifier" / `identifier` with doubled-quote escapes, [identifier],
// x'..' blob literals, and identifier characters as SQLite defines them
// (ASCII letters, digits, '_', '$', every byte >= 0x80). Statements are split
// at top-level semicolons with exactly the rule of sqlite3_complete(): inside
// CREATE [TEMP] TRIGGER ... the statement ends only at `; END ;` (or `; END`
// at the end of input), so semicolons inside a trigger body do not split.
//
// What is conservative. Misclassifying a write as a read would skip the log
// and lose the write on every other replica; misclassifying a read as a write
// only costs a log round trip. So only forms known to be read-only are kRead:
// SELECT, VALUES, EXPLAIN (of anything: it only describes the statement), WITH
// whose CTE list is followed by SELECT/VALUES, and a short list of PRAGMAs in
// their query form. Everything else that may run is kWrite, including text
// that is not valid SQL (SQLite rejects it when it is executed).
//
// What is refused (kind kTransactionControl or kForbidden, with a reason):
//   - BEGIN/COMMIT/END/ROLLBACK/SAVEPOINT/RELEASE: the state machine applies
//     every batch in its own transaction, atomically; explicit transaction
//     control would break that. Classified separately so a caller can say so.
//   - ATTACH/DETACH, VACUUM (incl. VACUUM INTO): they touch files outside the
//     replicated database or cannot run inside a transaction.
//   - CREATE TEMP/TEMPORARY ..., and CREATE of an object qualified with the
//     `temp` schema: temporary objects live on one connection only and are
//     not in snapshots, so a replica restored from a snapshot would diverge.
//   - PRAGMA in any form not known to be a read, except assignments of
//     user_version and application_id (kept in the database header, so they
//     are replicated and snapshotted: kWrite). Other assignments change
//     connection state that snapshots do not carry; unknown PRAGMAs are refused
//     rather than guessed.
// check_allowed() turns these kinds into one clear error.
//
// Not visible lexically: side effects of functions (load_extension(), user
// functions) inside a SELECT. The executing connection therefore double-checks
// every statement the classifier called kRead with sqlite3_stmt_readonly(),
// except where sqlite3_stmt_isexplain() is set: SQLite reports the read-only-ness
// of the explained statement for EXPLAIN X, though EXPLAIN never runs X. It
// also prepares each slice on its own and requires prepare to consume all of
// it (SQLite's `$name(...)` parameter syntax may contain a ';' that the
// sqlite3_complete() rule splits at; such a slice fails to prepare there).
// sqlite3_stmt_readonly() alone is no substitute for this classifier: it is
// true for BEGIN, ATTACH and connection-setting PRAGMAs, which do not write
// the database file but must not run here either.
//
// Stricter than SQLite on purpose: an unterminated /* comment is an error
// (SQLite silently treats it as running to the end), and so is a NUL byte
// (SQLite stops reading at it, so the text after it would be classified but
// never executed).
//
// Bounds: the input is at most kMaxSqlBytes and yields at most kMaxStatements
// statements; beyond either, classify_statements() fails with INVALID_ARGUMENT.
// Time is linear in the input; memory is O(number of statements) (statements
// are re-lexed for classification rather than keeping tokens); nothing
// recurses, so deep parenthesis nesting costs no stack.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace reef::statemachine {

inline constexpr std::size_t kMaxSqlBytes = std::size_t{16} << 20;  // 16 MiB
inline constexpr std::size_t kMaxStatements = 10'000;

enum class StatementKind {
  kRead,                // cannot change the database: may take the read path
  kWrite,               // may change the database: must go through the log
  kTransactionControl,  // BEGIN/COMMIT/...: refused, batches are transactions
  kForbidden,           // can never run on a replicated database
};

std::string_view to_string(StatementKind kind);

struct ClassifiedStatement {
  // The statement's exact bytes in the input passed to classify_statements()
  // (so valid only while that input is): from its first token to its last,
  // without leading/trailing whitespace and comments and without the
  // terminating ';'. Comments inside the statement are kept.
  std::string_view text;
  // Byte offset of `text` in the input.
  std::size_t offset = 0;
  StatementKind kind = StatementKind::kWrite;
  // Why the statement cannot run; empty unless kind is kTransactionControl
  // or kForbidden. Points at static storage.
  std::string_view reason;
};

// Splits `sql` into statements, in input order, and classifies each.
// INVALID_ARGUMENT when `sql` exceeds kMaxSqlBytes, contains a NUL byte, has an
// unterminated string, quoted identifier, blob literal, /* comment or trigger
// body (the message names the byte offset where it starts), holds no statement
// (empty, or only whitespace, comments and semicolons), or holds more than
// kMaxStatements statements.
absl::StatusOr<std::vector<ClassifiedStatement>> classify_statements(std::string_view sql);

// OK when every statement is kRead or kWrite; otherwise INVALID_ARGUMENT naming
// the first refused statement (position, offset, its start) and the reason.
absl::Status check_allowed(absl::Span<const ClassifiedStatement> statements);

// True when every statement is kRead (and there is at least one).
bool all_reads(absl::Span<const ClassifiedStatement> statements);

}  // namespace reef::statemachine
