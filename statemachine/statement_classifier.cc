// Statement classifier: tokenizer, statement splitter (the sqlite3_complete()
// state machine) and per-statement classification. See the header for what
// is classified how, and why.
#include "statemachine/statement_classifier.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::statemachine {
namespace {

// absl 20220623 has its own string_view; StrCat needs it.
absl::string_view av(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// ---------------------------------------------------------------------------
// Tokenizer

enum class TokenType : std::uint8_t {
  kWord,        // keyword, bare identifier or number: a run of identifier chars
  kString,      // 'string'
  kBlob,        // x'..'
  kQuoted,      // "identifier", `identifier`, [identifier]
  kSemicolon,
  kLeftParen,
  kRightParen,
  kComma,
  kDot,
  kEquals,
  kOther,       // any other single byte (operators, parameters' sigils, ...)
};

struct Token {
  TokenType type = TokenType::kOther;
  std::size_t begin = 0;  // byte offsets in the lexed text, [begin, end)
  std::size_t end = 0;
};

// SQLite's identifier characters (sqlite3CtypeMap & 0x46): letters, digits,
// '_', '$', and every byte of a multi-byte UTF-8 sequence.
bool is_id_char(unsigned char c) {
  return absl::ascii_isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

// SQLite's tokenizer counts \v as space too (sqlite3Isspace); sqlite3_complete()
// does not, which only matters for malformed input such as CREATE\vTRIGGER.
bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool equals_ignore_case(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return absl::ascii_tolower(static_cast<unsigned char>(x)) ==
                  absl::ascii_tolower(static_cast<unsigned char>(y));
         });
}

bool is_any_of(std::string_view word, std::initializer_list<std::string_view> keywords) {
  return std::any_of(keywords.begin(), keywords.end(),
                     [word](std::string_view k) { return equals_ignore_case(word, k); });
}

absl::Status unterminated(std::string_view what, std::size_t begin) {
  return absl::InvalidArgumentError(
      absl::StrCat("unterminated ", av(what), " starting at byte ", begin));
}

// Yields the tokens of a SQL text, skipping whitespace and comments. The
// caller has already rejected NUL bytes.
class Lexer {
 public:
  explicit Lexer(std::string_view sql) : sql_(sql) {}

  // The next token, or nullopt at the end of the text.
  absl::StatusOr<std::optional<Token>> next() {
    if (absl::Status skipped = skip_space_and_comments(); !skipped.ok()) return skipped;
    if (pos_ == sql_.size()) return std::nullopt;
    absl::StatusOr<Token> token = lex_token();
    if (!token.ok()) return token.status();
    REEF_ASSERT(token->end > token->begin && token->end <= sql_.size(), "begin=", token->begin,
                " end=", token->end, " size=", sql_.size());
    pos_ = token->end;
    return *token;
  }

 private:
  bool at(std::size_t i, char c) const { return i < sql_.size() && sql_[i] == c; }

  absl::Status skip_space_and_comments() {
    while (pos_ < sql_.size()) {
      if (is_space(static_cast<unsigned char>(sql_[pos_]))) {
        ++pos_;
      } else if (sql_[pos_] == '-' && at(pos_ + 1, '-')) {
        // A line comment may run to the end of the text: SQLite accepts that.
        const std::size_t newline = sql_.find('\n', pos_ + 2);
        pos_ = newline == std::string_view::npos ? sql_.size() : newline + 1;
      } else if (sql_[pos_] == '/' && at(pos_ + 1, '*')) {
        const std::size_t close = sql_.find("*/", pos_ + 2);
        if (close == std::string_view::npos) return unterminated("/* comment", pos_);
        pos_ = close + 2;
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  absl::StatusOr<Token> lex_token() const {
    const std::size_t begin = pos_;
    switch (sql_[begin]) {
      case ';': return Token{TokenType::kSemicolon, begin, begin + 1};
      case '(': return Token{TokenType::kLeftParen, begin, begin + 1};
      case ')': return Token{TokenType::kRightParen, begin, begin + 1};
      case ',': return Token{TokenType::kComma, begin, begin + 1};
      case '.': return Token{TokenType::kDot, begin, begin + 1};
      case '=': return Token{TokenType::kEquals, begin, begin + 1};
      case '\'': return quoted(TokenType::kString, begin, '\'', "string literal");
      case '"': return quoted(TokenType::kQuoted, begin, '"', "quoted identifier");
      case '`': return quoted(TokenType::kQuoted, begin, '`', "quoted identifier");
      case '[': return bracketed(begin);
      default: break;
    }
    if (is_id_char(static_cast<unsigned char>(sql_[begin]))) return word_or_blob(begin);
    return Token{TokenType::kOther, begin, begin + 1};
  }

  // 'x' / "x" / `x`, where a doubled quote stands for one quote character.
  absl::StatusOr<Token> quoted(TokenType type, std::size_t begin, char quote,
                               std::string_view what) const {
    std::size_t i = begin + 1;
    while (true) {
      const std::size_t close = sql_.find(quote, i);
      if (close == std::string_view::npos) return unterminated(what, begin);
      if (!at(close + 1, quote)) return Token{type, begin, close + 1};
      i = close + 2;  // '' inside the literal
    }
  }

  // [identifier]: no escapes, the first ']' closes it.
  absl::StatusOr<Token> bracketed(std::size_t begin) const {
    const std::size_t close = sql_.find(']', begin + 1);
    if (close == std::string_view::npos) return unterminated("[identifier]", begin);
    return Token{TokenType::kQuoted, begin, close + 1};
  }

  absl::StatusOr<Token> word_or_blob(std::size_t begin) const {
    std::size_t end = begin + 1;
    while (end < sql_.size() && is_id_char(static_cast<unsigned char>(sql_[end]))) ++end;
    const bool blob = end == begin + 1 && (sql_[begin] == 'x' || sql_[begin] == 'X') &&
                      at(end, '\'');
    if (!blob) return Token{TokenType::kWord, begin, end};
    // Like SQLite, the first quote closes a blob literal (a doubled quote
    // would start a new string token, which splits the same way).
    const std::size_t close = sql_.find('\'', end + 1);
    if (close == std::string_view::npos) return unterminated("blob literal", begin);
    return Token{TokenType::kBlob, begin, close + 1};
  }

  std::string_view sql_;
  std::size_t pos_ = 0;
};

// ---------------------------------------------------------------------------
// Splitting: the state machine of sqlite3_complete() (SQLite's complete.c),
// which is what decides where a CREATE TRIGGER ends. Its INVALID state (before
// the first token) behaves exactly like START for every token and whitespace
// never changes the state, so neither appears here.

enum SplitState : std::uint8_t { kStart, kNormal, kExplain, kCreate, kTrigger, kSemi, kEnd };
enum SplitToken : std::uint8_t { kTokSemi, kTokOther, kTokExplain, kTokCreate, kTokTemp,
                                 kTokTrigger, kTokEnd, kSplitTokenCount };

constexpr std::array<std::array<SplitState, kSplitTokenCount>, 7> kTransitions = {{
    //            SEMI    OTHER     EXPLAIN   CREATE    TEMP      TRIGGER   END
    /* START   */ {kStart, kNormal,  kExplain, kCreate,  kNormal,  kNormal,  kNormal},
    /* NORMAL  */ {kStart, kNormal,  kNormal,  kNormal,  kNormal,  kNormal,  kNormal},
    /* EXPLAIN */ {kStart, kExplain, kNormal,  kCreate,  kNormal,  kNormal,  kNormal},
    /* CREATE  */ {kStart, kNormal,  kNormal,  kNormal,  kCreate,  kTrigger, kNormal},
    /* TRIGGER */ {kSemi,  kTrigger, kTrigger, kTrigger, kTrigger, kTrigger, kTrigger},
    /* SEMI    */ {kSemi,  kTrigger, kTrigger, kTrigger, kTrigger, kTrigger, kEnd},
    /* END     */ {kStart, kTrigger, kTrigger, kTrigger, kTrigger, kTrigger, kTrigger},
}};

SplitToken split_token(std::string_view sql, const Token& token) {
  if (token.type == TokenType::kSemicolon) return kTokSemi;
  if (token.type != TokenType::kWord) return kTokOther;
  const std::string_view word = sql.substr(token.begin, token.end - token.begin);
  if (equals_ignore_case(word, "create")) return kTokCreate;
  if (equals_ignore_case(word, "temp") || equals_ignore_case(word, "temporary")) return kTokTemp;
  if (equals_ignore_case(word, "trigger")) return kTokTrigger;
  if (equals_ignore_case(word, "end")) return kTokEnd;
  if (equals_ignore_case(word, "explain")) return kTokExplain;
  return kTokOther;
}

struct ByteRange {
  std::size_t begin = 0;
  std::size_t end = 0;
};

// Byte ranges of the statements in `sql`, first token to last token each.
absl::StatusOr<std::vector<ByteRange>> split(std::string_view sql) {
  Lexer lexer(sql);
  std::vector<ByteRange> statements;
  std::optional<ByteRange> current;
  SplitState state = kStart;
  auto finish_current = [&]() -> absl::Status {
    if (!current) return absl::OkStatus();
    if (statements.size() == kMaxStatements) {
      return absl::InvalidArgumentError(absl::StrCat(
          "more than ", kMaxStatements, " statements in one SQL text (the next starts at byte ",
          current->begin, ")"));
    }
    statements.push_back(*current);
    current.reset();
    return absl::OkStatus();
  };
  while (true) {
    absl::StatusOr<std::optional<Token>> token = lexer.next();
    if (!token.ok()) return token.status();
    if (!token->has_value()) break;
    const Token& t = **token;
    state = kTransitions[state][split_token(sql, t)];
    if (t.type == TokenType::kSemicolon && state == kStart) {
      if (absl::Status s = finish_current(); !s.ok()) return s;
    } else if (current) {
      current->end = t.end;
    } else {
      current = ByteRange{t.begin, t.end};
    }
  }
  if (state == kTrigger || state == kSemi) {
    REEF_ASSERT(current.has_value(), "trigger state without a statement");
    return absl::InvalidArgumentError(absl::StrCat(
        "unterminated CREATE TRIGGER starting at byte ", current->begin,
        ": its body must end with `; END`"));
  }
  if (absl::Status s = finish_current(); !s.ok()) return s;
  return statements;
}

// ---------------------------------------------------------------------------
// Classification of one statement (already split, so lexing cannot fail).

constexpr std::string_view kTransactionReason =
    "explicit transaction control is not allowed: every batch already runs in its own "
    "transaction";
constexpr std::string_view kAttachReason =
    "ATTACH/DETACH is not allowed: only the main database is replicated";
constexpr std::string_view kVacuumReason =
    "VACUUM is not allowed: it cannot run inside the batch's transaction, and VACUUM INTO "
    "writes a file outside the replicated database";
constexpr std::string_view kTempReason =
    "temporary objects are not allowed: they live on one connection and are not in "
    "snapshots, so replicas would diverge";
constexpr std::string_view kPragmaReason =
    "this PRAGMA form is not allowed: only read-only PRAGMAs and assignments of "
    "user_version/application_id are replicated; other settings are connection state that "
    "snapshots do not carry";

struct Classification {
  StatementKind kind = StatementKind::kWrite;
  std::string_view reason;
};

constexpr Classification kReadResult{StatementKind::kRead, {}};
constexpr Classification kWriteResult{StatementKind::kWrite, {}};

Classification forbidden(std::string_view reason) {
  return Classification{StatementKind::kForbidden, reason};
}

// Walks the tokens of one statement.
class Cursor {
 public:
  explicit Cursor(std::string_view text) : text_(text), lexer_(text) { advance(); }

  bool at_end() const { return !current_.has_value(); }
  bool at(TokenType type) const { return current_ && current_->type == type; }
  bool at_keyword(std::string_view keyword) const {
    return at(TokenType::kWord) && equals_ignore_case(current_text(), keyword);
  }
  std::string_view current_text() const {
    REEF_ASSERT(current_.has_value(), "no current token");
    return text_.substr(current_->begin, current_->end - current_->begin);
  }

  void advance() {
    absl::StatusOr<std::optional<Token>> next = lexer_.next();
    REEF_ASSERT(next.ok(), "a split statement failed to lex again: ", next.status().ToString());
    current_ = *next;
  }
  bool accept(TokenType type) {
    if (!at(type)) return false;
    advance();
    return true;
  }
  bool accept_keyword(std::string_view keyword) {
    if (!at_keyword(keyword)) return false;
    advance();
    return true;
  }

  // A name: bare word, quoted identifier or 'string' (SQLite accepts all
  // three as names). Returns it without quotes (escapes are left doubled,
  // which only matters for names this file never compares against).
  std::optional<std::string_view> accept_name() {
    if (!at(TokenType::kWord) && !at(TokenType::kQuoted) && !at(TokenType::kString)) {
      return std::nullopt;
    }
    std::string_view name = current_text();
    if (!at(TokenType::kWord)) name = name.substr(1, name.size() - 2);
    advance();
    return name;
  }

  // At '(': skips to just past the matching ')'. False when not at '(' or
  // the statement ends first.
  bool skip_group() {
    if (!accept(TokenType::kLeftParen)) return false;
    std::size_t depth = 1;
    while (!at_end()) {
      if (at(TokenType::kLeftParen)) ++depth;
      if (at(TokenType::kRightParen)) --depth;
      advance();
      if (depth == 0) return true;
    }
    return false;
  }

 private:
  std::string_view text_;
  Lexer lexer_;
  std::optional<Token> current_;
};

// WITH [RECURSIVE] name [(columns)] AS [NOT] [MATERIALIZED] (select) [, ...]
// followed by the statement that decides. Anything that does not parse this
// way is not a read SQLite would accept: kWrite.
Classification classify_with(Cursor& cursor) {
  cursor.accept_keyword("RECURSIVE");
  do {
    if (!cursor.accept_name()) return kWriteResult;
    if (cursor.at(TokenType::kLeftParen) && !cursor.skip_group()) return kWriteResult;
    if (!cursor.accept_keyword("AS")) return kWriteResult;
    cursor.accept_keyword("NOT");
    cursor.accept_keyword("MATERIALIZED");
    if (!cursor.skip_group()) return kWriteResult;
  } while (cursor.accept(TokenType::kComma));
  if (cursor.at_keyword("SELECT") || cursor.at_keyword("VALUES")) return kReadResult;
  return kWriteResult;  // INSERT/REPLACE/UPDATE/DELETE, or malformed
}

// PRAGMAs whose arguments, if any, only say what to report.
bool is_query_pragma(std::string_view name) {
  return is_any_of(name, {"table_info", "table_xinfo", "table_list", "index_info",
                          "index_xinfo", "index_list", "foreign_key_list", "foreign_key_check",
                          "integrity_check", "quick_check", "collation_list", "function_list",
                          "module_list", "pragma_list", "database_list", "compile_options",
                          "freelist_count", "page_count", "data_version"});
}

// Settings that only report their value when given no argument.
bool is_readable_setting(std::string_view name) {
  return is_any_of(name, {"user_version", "application_id", "schema_version", "page_size",
                          "encoding", "foreign_keys", "auto_vacuum"});
}

// Settings stored in the database header, so an assignment is replicated by
// the log and carried by snapshots.
bool is_replicated_setting(std::string_view name) {
  return is_any_of(name, {"user_version", "application_id"});
}

// PRAGMA [schema.]name [= value | (value)]
Classification classify_pragma(Cursor& cursor) {
  std::optional<std::string_view> name = cursor.accept_name();
  if (name && cursor.accept(TokenType::kDot)) name = cursor.accept_name();
  if (!name) return forbidden(kPragmaReason);
  const bool bare = cursor.at_end();
  if (!bare && !cursor.at(TokenType::kEquals) && !cursor.at(TokenType::kLeftParen)) {
    return forbidden(kPragmaReason);
  }
  if (is_query_pragma(*name)) return kReadResult;
  if (bare && is_readable_setting(*name)) return kReadResult;
  if (!bare && is_replicated_setting(*name)) return kWriteResult;
  return forbidden(kPragmaReason);
}

// CREATE [UNIQUE] [TEMP] [VIRTUAL] kind [IF NOT EXISTS] [schema.]name ...:
// a write, unless it creates a temporary object.
Classification classify_create(Cursor& cursor) {
  cursor.accept_keyword("UNIQUE");
  if (cursor.at_keyword("TEMP") || cursor.at_keyword("TEMPORARY")) return forbidden(kTempReason);
  cursor.accept_keyword("VIRTUAL");
  cursor.accept(TokenType::kWord);  // TABLE, INDEX, VIEW, TRIGGER
  if (cursor.accept_keyword("IF")) {
    cursor.accept_keyword("NOT");
    cursor.accept_keyword("EXISTS");
  }
  const std::optional<std::string_view> first = cursor.accept_name();
  if (first && cursor.at(TokenType::kDot) && equals_ignore_case(*first, "temp")) {
    return forbidden(kTempReason);
  }
  return kWriteResult;
}

// Flat dispatch on the first keyword. Unknown first tokens are kWrite: never
// guess "read" (SQLite rejects text that is not SQL when it is executed).
Classification classify_statement(std::string_view text) {
  Cursor cursor(text);
  REEF_ASSERT(!cursor.at_end(), "empty statement");
  if (!cursor.at(TokenType::kWord)) return kWriteResult;
  const std::string_view first = cursor.current_text();
  cursor.advance();
  if (is_any_of(first, {"SELECT", "VALUES", "EXPLAIN"})) return kReadResult;
  if (equals_ignore_case(first, "WITH")) return classify_with(cursor);
  if (equals_ignore_case(first, "PRAGMA")) return classify_pragma(cursor);
  if (equals_ignore_case(first, "CREATE")) return classify_create(cursor);
  if (is_any_of(first, {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"})) {
    return Classification{StatementKind::kTransactionControl, kTransactionReason};
  }
  if (is_any_of(first, {"ATTACH", "DETACH"})) return forbidden(kAttachReason);
  if (equals_ignore_case(first, "VACUUM")) return forbidden(kVacuumReason);
  // INSERT, REPLACE, UPDATE, DELETE, DROP, ALTER, REINDEX, ANALYZE, and
  // anything unknown.
  return kWriteResult;
}

}  // namespace

std::string_view to_string(StatementKind kind) {
  switch (kind) {
    case StatementKind::kRead: return "read";
    case StatementKind::kWrite: return "write";
    case StatementKind::kTransactionControl: return "transaction control";
    case StatementKind::kForbidden: return "forbidden";
  }
  REEF_UNREACHABLE("StatementKind ", static_cast<int>(kind));
}

absl::StatusOr<std::vector<ClassifiedStatement>> classify_statements(std::string_view sql) {
  if (sql.size() > kMaxSqlBytes) {
    return absl::InvalidArgumentError(absl::StrCat("SQL text is ", sql.size(),
                                                   " bytes, more than the limit of ",
                                                   kMaxSqlBytes));
  }
  if (const std::size_t nul = sql.find('\0'); nul != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "NUL byte at byte ", nul, " of the SQL text (SQLite would stop reading there)"));
  }
  absl::StatusOr<std::vector<ByteRange>> ranges = split(sql);
  if (!ranges.ok()) return ranges.status();
  if (ranges->empty()) {
    return absl::InvalidArgumentError(
        "no statement: the SQL text is empty or holds only whitespace, comments and semicolons");
  }
  std::vector<ClassifiedStatement> statements;
  statements.reserve(ranges->size());
  for (const ByteRange& range : *ranges) {
    REEF_ASSERT(range.begin < range.end && range.end <= sql.size(), "begin=", range.begin,
                " end=", range.end, " size=", sql.size());
    const std::string_view text = sql.substr(range.begin, range.end - range.begin);
    const Classification c = classify_statement(text);
    statements.push_back(ClassifiedStatement{text, range.begin, c.kind, c.reason});
  }
  return statements;
}

absl::Status check_allowed(absl::Span<const ClassifiedStatement> statements) {
  constexpr std::size_t kSnippetBytes = 40;
  for (std::size_t i = 0; i < statements.size(); ++i) {
    const ClassifiedStatement& s = statements[i];
    if (s.kind == StatementKind::kRead || s.kind == StatementKind::kWrite) continue;
    REEF_ASSERT(!s.reason.empty(), "refused statement without a reason, kind=",
                av(to_string(s.kind)));
    const std::string_view snippet = s.text.substr(0, kSnippetBytes);
    return absl::InvalidArgumentError(absl::StrCat(
        "statement ", i + 1, " of ", statements.size(), " (at byte ", s.offset, ": \"",
        absl::CHexEscape(av(snippet)), s.text.size() > kSnippetBytes ? "...\"" : "\"",
        ") is refused: ", av(s.reason)));
  }
  return absl::OkStatus();
}

bool all_reads(absl::Span<const ClassifiedStatement> statements) {
  return !statements.empty() &&
         std::all_of(statements.begin(), statements.end(), [](const ClassifiedStatement& s) {
           return s.kind == StatementKind::kRead;
         });
}

}  // namespace reef::statemachine
