// Statement classifier (statemachine/statement_classifier.h):
//
//  - a table of cases: comments, strings and quoted identifiers holding ';'
//    and keywords, blobs, triggers, CTEs both ways, EXPLAIN, PRAGMA forms,
//    transaction control, refused forms, whitespace, case-insensitivity;
//  - error cases: every unterminated token names its byte offset; empty
//    input; NUL bytes; the size and statement-count bounds;
//  - properties (RapidCheck): statements from a pool joined with ';' and
//    random whitespace/comments split back into exactly that sequence; the
//    split agrees with SQLite's own sqlite3_complete() on random SQL-ish text;
//    each statement's text classifies to itself;
//  - a cross-check against a real in-memory SQLite: every pool statement that
//    the classifier calls kRead or kWrite prepares on a fixed schema and
//    kRead <=> sqlite3_stmt_readonly(). The refused kinds are exactly where
//    that equivalence fails (SQLite calls BEGIN, ATTACH, ... read-only, since
//    they do not write the database file), which is why they are refused
//    lexically instead of being left to sqlite3_stmt_readonly.
#include "statemachine/statement_classifier.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <sqlite3.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "tests/raft/support/rapidcheck_defaults.h"

namespace reef::statemachine {
namespace {

const bool kRapidCheckDefaults =
    (raft::testing::set_rapidcheck_defaults(1000, 20260601), true);

using K = StatementKind;

struct Expected {
  std::string text;
  StatementKind kind;
};

// The statements of `sql` as (text, kind), after checking that every text is
// a slice of `sql` at its offset.
std::vector<Expected> classify_ok(std::string_view sql) {
  absl::StatusOr<std::vector<ClassifiedStatement>> result = classify_statements(sql);
  EXPECT_TRUE(result.ok()) << result.status() << " for: " << sql;
  std::vector<Expected> out;
  if (!result.ok()) return out;
  for (const ClassifiedStatement& s : *result) {
    EXPECT_EQ(s.text.data(), sql.data() + s.offset) << sql;
    EXPECT_EQ(s.reason.empty(), s.kind == K::kRead || s.kind == K::kWrite) << s.text;
    out.push_back(Expected{std::string(s.text), s.kind});
  }
  return out;
}

void PrintTo(const Expected& e, std::ostream* os) {
  *os << "{\"" << e.text << "\", " << to_string(e.kind) << "}";
}
bool operator==(const Expected& a, const Expected& b) {
  return a.text == b.text && a.kind == b.kind;
}

struct Case {
  const char* name;
  std::string sql;
  std::vector<Expected> expected;
};

class ClassifierCases : public ::testing::TestWithParam<Case> {};

TEST_P(ClassifierCases, SplitsAndClassifies) {
  EXPECT_EQ(classify_ok(GetParam().sql), GetParam().expected) << GetParam().sql;
}

const std::string kTrigger =
    "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET b = 'x;'; DELETE FROM u; END";

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifierCases,
    ::testing::Values(
        // Basics, whitespace, empty statements, case.
        Case{"select", "SELECT 1", {{"SELECT 1", K::kRead}}},
        Case{"trimmed", " \t\n\r\f\vSELECT\n1 \n;  ", {{"SELECT\n1", K::kRead}}},
        Case{"empty_statements", ";; SELECT 1;;; ;", {{"SELECT 1", K::kRead}}},
        Case{"lower_case", "select 1; insert into t values (2)",
             {{"select 1", K::kRead}, {"insert into t values (2)", K::kWrite}}},
        Case{"mixed_case", "SeLeCt 1; dElEtE FROM t",
             {{"SeLeCt 1", K::kRead}, {"dElEtE FROM t", K::kWrite}}},
        Case{"values", "VALUES (1), (2)", {{"VALUES (1), (2)", K::kRead}}},
        Case{"operators", "SELECT 4/2 - -1 * 3", {{"SELECT 4/2 - -1 * 3", K::kRead}}},
        // Comments.
        Case{"comments_trimmed", "-- lead ;\nSELECT 1 -- trail ;\n; /* c; */ DELETE FROM t /* c */",
             {{"SELECT 1", K::kRead}, {"DELETE FROM t", K::kWrite}}},
        Case{"comment_inside_kept", "SELECT /* ; */ 1 -- x;\n + 2",
             {{"SELECT /* ; */ 1 -- x;\n + 2", K::kRead}}},
        Case{"line_comment_at_end", "SELECT 1 -- done", {{"SELECT 1", K::kRead}}},
        Case{"comment_hides_write", "/* ; DELETE FROM t; */ SELECT 1", {{"SELECT 1", K::kRead}}},
        // Strings, quoted identifiers, blobs.
        Case{"semicolon_in_string", "SELECT 'a;b'; SELECT 'it''s; here'",
             {{"SELECT 'a;b'", K::kRead}, {"SELECT 'it''s; here'", K::kRead}}},
        Case{"keyword_in_string", "SELECT 'x'';DELETE FROM t;--'",
             {{"SELECT 'x'';DELETE FROM t;--'", K::kRead}}},
        Case{"identifier_named_select", "INSERT INTO \"select\" VALUES (1); SELECT \"select\" FROM t",
             {{"INSERT INTO \"select\" VALUES (1)", K::kWrite},
              {"SELECT \"select\" FROM t", K::kRead}}},
        Case{"quoted_identifiers_with_semicolons",
             "SELECT [x;y], `a;b`, \"c\"\";d\" FROM t; UPDATE [t;] SET a = 1",
             {{"SELECT [x;y], `a;b`, \"c\"\";d\" FROM t", K::kRead},
              {"UPDATE [t;] SET a = 1", K::kWrite}}},
        Case{"quoted_first_word_is_not_a_keyword", "\"SELECT\" 1", {{"\"SELECT\" 1", K::kWrite}}},
        Case{"blobs", "SELECT x'3b3b'; SELECT X'41'",
             {{"SELECT x'3b3b'", K::kRead}, {"SELECT X'41'", K::kRead}}},
        Case{"utf8_identifier", "SELECT é FROM t; SELECTé", {{"SELECT é FROM t", K::kRead},
                                                               {"SELECTé", K::kWrite}}},
        // Triggers: semicolons inside the body do not split.
        Case{"trigger", kTrigger + "; SELECT 1", {{kTrigger, K::kWrite}, {"SELECT 1", K::kRead}}},
        Case{"trigger_at_end_without_semicolon", kTrigger, {{kTrigger, K::kWrite}}},
        Case{"trigger_with_case_end",
             "create trigger tr after insert on t begin select case when 1 then 2 end; end;",
             {{"create trigger tr after insert on t begin select case when 1 then 2 end; end",
               K::kWrite}}},
        Case{"temp_trigger", "CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; SELECT 2",
             {{"CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", K::kForbidden},
              {"SELECT 2", K::kRead}}},
        Case{"explain_trigger", "EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END; VALUES (1)",
             {{"EXPLAIN CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END", K::kRead},
              {"VALUES (1)", K::kRead}}},
        Case{"create_table_named_trigger", "CREATE TABLE \"trigger\"(a); SELECT 1",
             {{"CREATE TABLE \"trigger\"(a)", K::kWrite}, {"SELECT 1", K::kRead}}},
        // CTEs both ways.
        Case{"cte_select", "WITH c AS (SELECT 1) SELECT * FROM c",
             {{"WITH c AS (SELECT 1) SELECT * FROM c", K::kRead}}},
        Case{"cte_recursive",
             "with recursive c(n) as (select 1 union all select n + 1 from c where n < 5) select n from c",
             {{"with recursive c(n) as (select 1 union all select n + 1 from c where n < 5) select n from c",
               K::kRead}}},
        Case{"cte_values", "WITH c AS (SELECT (1)) VALUES (1)",
             {{"WITH c AS (SELECT (1)) VALUES (1)", K::kRead}}},
        Case{"cte_insert", "WITH c AS (SELECT 1 AS a) INSERT INTO t(a) SELECT a FROM c",
             {{"WITH c AS (SELECT 1 AS a) INSERT INTO t(a) SELECT a FROM c", K::kWrite}}},
        Case{"cte_materialized_delete",
             "WITH c AS MATERIALIZED (SELECT 1), d AS NOT MATERIALIZED (SELECT 2) DELETE FROM t",
             {{"WITH c AS MATERIALIZED (SELECT 1), d AS NOT MATERIALIZED (SELECT 2) DELETE FROM t",
               K::kWrite}}},
        Case{"cte_update_with_select_inside", "WITH c AS (SELECT ';') UPDATE t SET b = (SELECT 1)",
             {{"WITH c AS (SELECT ';') UPDATE t SET b = (SELECT 1)", K::kWrite}}},
        Case{"cte_named_replace", "WITH \"replace\" AS (SELECT 1) SELECT * FROM \"replace\"",
             {{"WITH \"replace\" AS (SELECT 1) SELECT * FROM \"replace\"", K::kRead}}},
        Case{"cte_replace", "WITH c AS (SELECT 1) REPLACE INTO t(a) SELECT * FROM c",
             {{"WITH c AS (SELECT 1) REPLACE INTO t(a) SELECT * FROM c", K::kWrite}}},
        Case{"cte_malformed", "WITH SELECT 1", {{"WITH SELECT 1", K::kWrite}}},
        Case{"cte_unbalanced", "WITH c AS (SELECT 1", {{"WITH c AS (SELECT 1", K::kWrite}}},
        // EXPLAIN of anything is a read.
        Case{"explain", "EXPLAIN INSERT INTO t VALUES (1); explain query plan delete from t",
             {{"EXPLAIN INSERT INTO t VALUES (1)", K::kRead},
              {"explain query plan delete from t", K::kRead}}},
        // PRAGMA forms.
        Case{"pragma_reads",
             "PRAGMA table_info(t); PRAGMA main.table_info('t'); PRAGMA integrity_check; "
             "PRAGMA user_version; PRAGMA \"index_list\"(t); pragma table_info = t",
             {{"PRAGMA table_info(t)", K::kRead}, {"PRAGMA main.table_info('t')", K::kRead},
              {"PRAGMA integrity_check", K::kRead}, {"PRAGMA user_version", K::kRead},
              {"PRAGMA \"index_list\"(t)", K::kRead}, {"pragma table_info = t", K::kRead}}},
        Case{"pragma_replicated_writes", "PRAGMA user_version = 7; PRAGMA main.application_id(5)",
             {{"PRAGMA user_version = 7", K::kWrite},
              {"PRAGMA main.application_id(5)", K::kWrite}}},
        Case{"pragma_refused",
             "PRAGMA foreign_keys = ON; PRAGMA foreign_keys(1); PRAGMA journal_mode = WAL; "
             "PRAGMA optimize; PRAGMA schema_version = 1; PRAGMA; PRAGMA user_version 7",
             {{"PRAGMA foreign_keys = ON", K::kForbidden}, {"PRAGMA foreign_keys(1)", K::kForbidden},
              {"PRAGMA journal_mode = WAL", K::kForbidden}, {"PRAGMA optimize", K::kForbidden},
              {"PRAGMA schema_version = 1", K::kForbidden}, {"PRAGMA", K::kForbidden},
              {"PRAGMA user_version 7", K::kForbidden}}},
        // Transaction control.
        Case{"transaction_control",
             "BEGIN; begin immediate; COMMIT; END TRANSACTION; ROLLBACK TO sp; SAVEPOINT sp; "
             "RELEASE sp",
             {{"BEGIN", K::kTransactionControl}, {"begin immediate", K::kTransactionControl},
              {"COMMIT", K::kTransactionControl}, {"END TRANSACTION", K::kTransactionControl},
              {"ROLLBACK TO sp", K::kTransactionControl}, {"SAVEPOINT sp", K::kTransactionControl},
              {"RELEASE sp", K::kTransactionControl}}},
        // Refused: other databases, VACUUM, temporary objects.
        Case{"attach_vacuum", "ATTACH 'x.db' AS x; DETACH x; VACUUM; VACUUM INTO '/tmp/x'",
             {{"ATTACH 'x.db' AS x", K::kForbidden}, {"DETACH x", K::kForbidden},
              {"VACUUM", K::kForbidden}, {"VACUUM INTO '/tmp/x'", K::kForbidden}}},
        Case{"temporary_objects",
             "CREATE TEMP TABLE x(a); CREATE TEMPORARY VIEW v AS SELECT 1; "
             "CREATE TABLE temp.x(a); CREATE INDEX \"TEMP\".i ON t(a)",
             {{"CREATE TEMP TABLE x(a)", K::kForbidden},
              {"CREATE TEMPORARY VIEW v AS SELECT 1", K::kForbidden},
              {"CREATE TABLE temp.x(a)", K::kForbidden},
              {"CREATE INDEX \"TEMP\".i ON t(a)", K::kForbidden}}},
        Case{"not_temporary",
             "CREATE TABLE main.x(a); CREATE TABLE IF NOT EXISTS temp(a); "
             "CREATE UNIQUE INDEX i ON t(a); CREATE VIEW v AS SELECT 1",
             {{"CREATE TABLE main.x(a)", K::kWrite},
              {"CREATE TABLE IF NOT EXISTS temp(a)", K::kWrite},
              {"CREATE UNIQUE INDEX i ON t(a)", K::kWrite},
              {"CREATE VIEW v AS SELECT 1", K::kWrite}}},
        // Writes, and the conservative default.
        Case{"writes",
             "INSERT INTO t VALUES (1); REPLACE INTO t VALUES (2); UPDATE t SET b = 1; "
             "DELETE FROM t; DROP TABLE t; ALTER TABLE u ADD c; REINDEX; ANALYZE",
             {{"INSERT INTO t VALUES (1)", K::kWrite}, {"REPLACE INTO t VALUES (2)", K::kWrite},
              {"UPDATE t SET b = 1", K::kWrite}, {"DELETE FROM t", K::kWrite},
              {"DROP TABLE t", K::kWrite}, {"ALTER TABLE u ADD c", K::kWrite},
              {"REINDEX", K::kWrite}, {"ANALYZE", K::kWrite}}},
        Case{"unknown_is_write", "FROB 1; (SELECT 1); ?; 'SELECT'",
             {{"FROB 1", K::kWrite}, {"(SELECT 1)", K::kWrite}, {"?", K::kWrite},
              {"'SELECT'", K::kWrite}}}),
    [](const ::testing::TestParamInfo<Case>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------
// Errors

struct ErrorCase {
  const char* name;
  std::string sql;
  std::string message;  // a substring of the status message
};

class ClassifierErrors : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(ClassifierErrors, IsInvalidArgumentNamingTheProblem) {
  const absl::StatusOr<std::vector<ClassifiedStatement>> result =
      classify_statements(GetParam().sql);
  ASSERT_FALSE(result.ok()) << GetParam().sql;
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(result.status().message()).find(GetParam().message), std::string::npos)
      << result.status();
}

INSTANTIATE_TEST_SUITE_P(
    Table, ClassifierErrors,
    ::testing::Values(
        ErrorCase{"empty", "", "no statement"},
        ErrorCase{"only_noise", "  ; ;-- x;\n /* y; */ ;", "no statement"},
        ErrorCase{"only_line_comment", "-- SELECT 1", "no statement"},
        ErrorCase{"string", "SELECT 'abc", "unterminated string literal starting at byte 7"},
        ErrorCase{"string_escaped_quote", "SELECT 'it''s",
                  "unterminated string literal starting at byte 7"},
        ErrorCase{"string_after_statement", "SELECT 1; SELECT 'x",
                  "unterminated string literal starting at byte 17"},
        ErrorCase{"double_quoted", "SELECT \"abc", "unterminated quoted identifier starting at byte 7"},
        ErrorCase{"backquoted", "SELECT `a``", "unterminated quoted identifier starting at byte 7"},
        ErrorCase{"bracketed", "SELECT [abc", "unterminated [identifier] starting at byte 7"},
        ErrorCase{"blob", "SELECT x'00", "unterminated blob literal starting at byte 7"},
        ErrorCase{"block_comment", "SELECT 1 /* abc", "unterminated /* comment starting at byte 9"},
        ErrorCase{"block_comment_almost_closed", "SELECT 1 /*/", "unterminated /* comment"},
        ErrorCase{"trigger", "SELECT 1; CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1;",
                  "unterminated CREATE TRIGGER starting at byte 10"},
        ErrorCase{"trigger_end_not_after_semicolon",
                  "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1 END",
                  "unterminated CREATE TRIGGER starting at byte 0"},
        ErrorCase{"nul", std::string("SELECT 1;\0DELETE FROM t", 23), "NUL byte at byte 9"}),
    [](const ::testing::TestParamInfo<ErrorCase>& info) { return std::string(info.param.name); });

TEST(ClassifierBounds, RejectsTextOverTheSizeLimit) {
  std::string sql(kMaxSqlBytes - 8, ' ');
  sql += "SELECT 1";
  ASSERT_TRUE(classify_statements(sql).ok());
  sql += ' ';
  const auto result = classify_statements(sql);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("more than the limit of 16777216"),
            absl::string_view::npos)
      << result.status();
}

TEST(ClassifierBounds, RejectsMoreThanMaxStatements) {
  std::string sql;
  for (std::size_t i = 0; i < kMaxStatements; ++i) sql += "SELECT 1;";
  const auto at_limit = classify_statements(sql);
  ASSERT_TRUE(at_limit.ok()) << at_limit.status();
  EXPECT_EQ(at_limit->size(), kMaxStatements);
  sql += "SELECT 2";
  const auto over = classify_statements(sql);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(over.status().message().find("more than 10000 statements"), absl::string_view::npos)
      << over.status();
}

// ---------------------------------------------------------------------------
// check_allowed / all_reads

TEST(CheckAllowed, AcceptsReadsAndWrites) {
  const auto statements = classify_statements("SELECT 1; INSERT INTO t VALUES (1)");
  ASSERT_TRUE(statements.ok());
  EXPECT_TRUE(check_allowed(*statements).ok());
  EXPECT_FALSE(all_reads(*statements));
}

TEST(CheckAllowed, NamesTheFirstRefusedStatementAndWhy) {
  const auto statements = classify_statements("SELECT 1; BEGIN; VACUUM");
  ASSERT_TRUE(statements.ok());
  const absl::Status status = check_allowed(*statements);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(),
            "statement 2 of 3 (at byte 10: \"BEGIN\") is refused: explicit transaction control "
            "is not allowed: every batch already runs in its own transaction");
}

TEST(CheckAllowed, QuotesALongStatementShortAndEscaped) {
  const auto statements =
      classify_statements("ATTACH 'a\nb' AS other_database_with_a_long_name");
  ASSERT_TRUE(statements.ok());
  const absl::Status status = check_allowed(*statements);
  EXPECT_NE(status.message().find(
                "(at byte 0: \"ATTACH \\'a\\nb\\' AS other_database_with_a_lo...\")"),
            absl::string_view::npos)
      << status;
}

TEST(AllReads, TrueOnlyWhenEveryStatementReads) {
  const auto reads = classify_statements("SELECT 1; VALUES (2); EXPLAIN DELETE FROM t");
  ASSERT_TRUE(reads.ok());
  EXPECT_TRUE(all_reads(*reads));
  EXPECT_FALSE(all_reads({}));
  const auto with_pragma = classify_statements("SELECT 1; PRAGMA foreign_keys = 1");
  ASSERT_TRUE(with_pragma.ok());
  EXPECT_FALSE(all_reads(*with_pragma));
}

// ---------------------------------------------------------------------------
// The pool: statements for the properties and the SQLite cross-check. Every
// entry prepares on kSchema (the cross-check asserts it).

constexpr const char* kSchema =
    "CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);"
    "CREATE TABLE u(x, y);"
    "CREATE INDEX tb ON t(b);";  // so that REINDEX has something to rebuild

struct PoolEntry {
  const char* sql;
  StatementKind kind;
};

const std::vector<PoolEntry>& pool() {
  static const std::vector<PoolEntry> entries = {
      {"SELECT 1", K::kRead},
      {"select a, b from t where b = 'x;y' -- c;\n order by a", K::kRead},
      {"SELECT 'it''s; DELETE FROM t'", K::kRead},
      {"SELECT 1 AS [x;y], 2 AS `a;b`, 3 AS \"c\"\";d\"", K::kRead},
      {"SELECT \"select\" FROM (SELECT 1 AS \"select\")", K::kRead},
      {"SELECT x'3b00ff', X''", K::kRead},
      {"SELECT /* ; */ count(*) /* INSERT */ FROM t", K::kRead},
      {"VALUES (1, 'a'), (2, 'b')", K::kRead},
      {"WITH c AS (SELECT 1 AS n) SELECT n FROM c", K::kRead},
      {"WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 3) SELECT n FROM c",
       K::kRead},
      {"WITH \"replace\" AS (SELECT 1) SELECT * FROM \"replace\"", K::kRead},
      {"WITH c AS (SELECT 1 AS n) INSERT INTO t(a) SELECT n FROM c", K::kWrite},
      {"WITH c AS MATERIALIZED (SELECT 2) DELETE FROM t WHERE a IN (SELECT * FROM c)", K::kWrite},
      {"with c(v) as (select ';') update t set b = (select v from c)", K::kWrite},
      {"WITH c AS (SELECT 1) REPLACE INTO t(a) SELECT * FROM c", K::kWrite},
      {"EXPLAIN SELECT 1", K::kRead},
      {"EXPLAIN INSERT INTO t VALUES (1, 'x')", K::kRead},
      {"EXPLAIN QUERY PLAN DELETE FROM t WHERE a = 1", K::kRead},
      {"EXPLAIN CREATE TRIGGER tr0 AFTER INSERT ON t BEGIN SELECT 1; END", K::kRead},
      {"PRAGMA table_info(t)", K::kRead},
      {"PRAGMA main.index_list('t')", K::kRead},
      {"PRAGMA integrity_check", K::kRead},
      {"PRAGMA user_version", K::kRead},
      {"PRAGMA foreign_key_check", K::kRead},
      {"PRAGMA user_version = 3", K::kWrite},
      {"PRAGMA application_id(42)", K::kWrite},
      {"PRAGMA foreign_keys = ON", K::kForbidden},
      {"PRAGMA journal_mode = DELETE", K::kForbidden},
      {"PRAGMA optimize", K::kForbidden},
      {"INSERT INTO t(b) VALUES ('a;b'), ('--'), ('/*')", K::kWrite},
      {"insert into u values (x'00', \"y\")", K::kWrite},  // "y": a string (SQLite's DQS)
      {"REPLACE INTO t VALUES (1, 'r')", K::kWrite},
      {"UPDATE t SET b = 'END; SELECT' WHERE a = 1", K::kWrite},
      {"DELETE FROM u WHERE x = ';'", K::kWrite},
      {"CREATE TABLE v(a, \"select\", [end;])", K::kWrite},
      {"CREATE INDEX i ON t(b)", K::kWrite},
      {"CREATE VIEW w AS SELECT * FROM t", K::kWrite},
      {"CREATE TRIGGER tr1 AFTER INSERT ON t BEGIN UPDATE u SET x = ';'; DELETE FROM u; END",
       K::kWrite},
      {"create trigger tr2 before delete on t begin select case when 1 then 'a;' end; end",
       K::kWrite},
      {"DROP TABLE u", K::kWrite},
      {"ALTER TABLE u ADD COLUMN z", K::kWrite},
      {"REINDEX", K::kWrite},
      {"ANALYZE", K::kWrite},
      {"BEGIN", K::kTransactionControl},
      {"BEGIN IMMEDIATE TRANSACTION", K::kTransactionControl},
      {"COMMIT", K::kTransactionControl},
      {"END", K::kTransactionControl},
      {"SAVEPOINT sp", K::kTransactionControl},
      {"RELEASE sp", K::kTransactionControl},
      {"ROLLBACK", K::kTransactionControl},
      {"ATTACH ':memory:' AS other", K::kForbidden},
      {"DETACH other", K::kForbidden},
      {"VACUUM", K::kForbidden},
      {"VACUUM INTO '/nonexistent/x.db'", K::kForbidden},
      {"CREATE TEMP TABLE tt(a)", K::kForbidden},
      {"CREATE TABLE temp.tt(a)", K::kForbidden},
      {"CREATE TEMP TRIGGER tr3 AFTER INSERT ON t BEGIN SELECT 1; END", K::kForbidden},
  };
  return entries;
}

// Noise between statements: anything that is not a token.
rc::Gen<std::string> gen_noise() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(
          rc::gen::element<std::string>("", " ", "\n", "\t ", "\r\n", "-- c; END;\n",
                                        "/* ; 'x */", "/**/", "--\n")),
      [](const std::vector<std::string>& pieces) {
        std::string out;
        for (const std::string& piece : pieces) out += piece;
        return out;
      });
}

bool sqlite_complete(std::string_view prefix) {
  return sqlite3_complete(std::string(prefix).c_str()) != 0;
}

// Statements drawn from the pool, joined with ';' (sometimes several) and
// random noise, split back into exactly that sequence of texts and kinds; and
// sqlite3_complete() agrees: a prefix ending at a separating ';' is complete,
// one ending at a ';' inside a statement is not.
RC_GTEST_PROP(ClassifierProperties, JoinedPoolStatementsSplitBack, ()) {
  const auto picks = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::size_t>>(
      rc::gen::inRange<std::size_t>(0, pool().size())));
  std::string sql = *gen_noise();
  std::vector<std::size_t> separators;          // offsets of separating ';'
  std::vector<std::pair<std::size_t, std::size_t>> regions;  // statement [begin, end)
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const std::string text = pool()[picks[i]].sql;
    regions.emplace_back(sql.size(), sql.size() + text.size());
    sql += text;
    const bool last = i + 1 == picks.size();
    const int semicolons = *rc::gen::inRange(last ? 0 : 1, 3);
    for (int s = 0; s < semicolons; ++s) {
      sql += *gen_noise();
      separators.push_back(sql.size());
      sql += ';';
    }
    sql += *gen_noise();
  }

  const auto result = classify_statements(sql);
  RC_ASSERT(result.ok());
  RC_ASSERT(result->size() == picks.size());
  for (std::size_t i = 0; i < picks.size(); ++i) {
    const ClassifiedStatement& got = (*result)[i];
    RC_ASSERT(got.text == std::string_view(pool()[picks[i]].sql));
    RC_ASSERT(got.offset == regions[i].first);
    RC_ASSERT(got.kind == pool()[picks[i]].kind);
  }
  for (std::size_t p : separators) RC_ASSERT(sqlite_complete(std::string_view(sql).substr(0, p + 1)));
  for (const auto& [begin, end] : regions) {
    for (std::size_t p = begin; p < end; ++p) {
      if (sql[p] == ';') RC_ASSERT(!sqlite_complete(std::string_view(sql).substr(0, p + 1)));
    }
  }
}

// SQL-ish text built from fragments that stress the lexer.
rc::Gen<std::string> gen_sqlish() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::string>>(rc::gen::element<std::string>(
          "SELECT", "create", "TRIGGER", "temp", "End", "explain", "BEGIN", "WITH", "as", ";",
          "CREATE TRIGGER ", "create temp trigger ", " end", "; END", "EXPLAIN ",
          " ", "\n", "'", "\"", "`", "[", "]", "--", "/*", "*/", "x'", "a", "(", ")", "''", ",",
          "=", "\xc3\xa9", "$", "-", "/", "*")),
      [](const std::vector<std::string>& pieces) {
        std::string out;
        for (const std::string& piece : pieces) out += piece;
        return out;
      });
}

// The classifier accepts a text exactly when SQLite's sqlite3_complete() calls
// it complete once a newline and ';' are appended (the newline closes a
// trailing line comment): both then agree on every string, identifier,
// comment and trigger body being closed.
RC_GTEST_PROP(ClassifierProperties, AcceptsExactlyWhatSqliteCompleteAccepts, ()) {
  const std::string sql = *gen_sqlish();
  const auto result = classify_statements(sql);
  const bool accepted =
      result.ok() || result.status().message().find("no statement") != absl::string_view::npos;
  RC_ASSERT(result.ok() || result.status().code() == absl::StatusCode::kInvalidArgument);
  RC_ASSERT(accepted == sqlite_complete(sql + "\n;"));
}

// Each statement's text, classified on its own, is one statement: itself,
// with the same kind; and the statements are in order and do not overlap.
RC_GTEST_PROP(ClassifierProperties, EachStatementClassifiesToItself, ()) {
  const std::string sql = *gen_sqlish();
  const auto result = classify_statements(sql);
  if (!result.ok()) return;
  std::size_t previous_end = 0;
  for (const ClassifiedStatement& s : *result) {
    RC_ASSERT(s.offset >= previous_end);
    RC_ASSERT(!s.text.empty());
    previous_end = s.offset + s.text.size();
    RC_ASSERT(previous_end <= sql.size());
    const auto again = classify_statements(s.text);
    RC_ASSERT(again.ok());
    RC_ASSERT(again->size() == 1u);
    RC_ASSERT((*again)[0].text == s.text);
    RC_ASSERT((*again)[0].kind == s.kind);
  }
}

// ---------------------------------------------------------------------------
// Cross-check with a real SQLite: kRead <=> sqlite3_stmt_readonly() for every
// pool statement the classifier lets run.

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* stmt) const { sqlite3_finalize(stmt); }
};
using Db = std::unique_ptr<sqlite3, DbCloser>;
using Stmt = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

Db open_schema_db() {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &raw), SQLITE_OK);
  Db db(raw);
  EXPECT_EQ(sqlite3_exec(db.get(), kSchema, nullptr, nullptr, nullptr), SQLITE_OK);
  return db;
}

// Prepares `sql` whole: null when SQLite rejects it or leaves a tail.
Stmt prepare_whole(sqlite3* db, std::string_view sql) {
  sqlite3_stmt* raw = nullptr;
  const char* tail = nullptr;
  const int rc = sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &raw, &tail);
  Stmt stmt(raw);
  if (rc != SQLITE_OK || stmt == nullptr || tail != sql.data() + sql.size()) return nullptr;
  return stmt;
}

TEST(ClassifierVersusSqlite, ReadsAreExactlyTheReadOnlyStatements) {
  Db db = open_schema_db();
  int compared = 0;
  int explains = 0;
  for (const PoolEntry& entry : pool()) {
    const auto result = classify_statements(entry.sql);
    ASSERT_TRUE(result.ok()) << entry.sql;
    ASSERT_EQ(result->size(), 1u) << entry.sql;
    const StatementKind kind = (*result)[0].kind;
    EXPECT_EQ(kind, entry.kind) << entry.sql;
    Stmt stmt = prepare_whole(db.get(), entry.sql);
    ASSERT_NE(stmt, nullptr) << entry.sql << ": " << sqlite3_errmsg(db.get());
    if (kind != K::kRead && kind != K::kWrite) continue;
    if (sqlite3_stmt_isexplain(stmt.get()) != 0) {
      // The documented exception: sqlite3_stmt_readonly() of EXPLAIN X reports
      // X's, but EXPLAIN only lists X's program and never runs it.
      EXPECT_EQ(kind, K::kRead) << entry.sql;
      ++explains;
      continue;
    }
    EXPECT_EQ(kind == K::kRead, sqlite3_stmt_readonly(stmt.get()) != 0) << entry.sql;
    ++compared;
  }
  EXPECT_GE(compared, 35);
  EXPECT_GE(explains, 4);
}

// Why the refused kinds are refused lexically: SQLite calls them read-only,
// so sqlite3_stmt_readonly() alone would let them through the read path.
TEST(ClassifierVersusSqlite, ReadOnlyCheckDoesNotCatchTheRefusedForms) {
  Db db = open_schema_db();
  for (const char* sql : {"BEGIN", "COMMIT", "SAVEPOINT sp", "ATTACH ':memory:' AS other",
                          "PRAGMA foreign_keys = ON"}) {
    const auto result = classify_statements(sql);
    ASSERT_TRUE(result.ok()) << sql;
    EXPECT_NE((*result)[0].kind, K::kRead) << sql;
    Stmt stmt = prepare_whole(db.get(), sql);
    ASSERT_NE(stmt, nullptr) << sql << ": " << sqlite3_errmsg(db.get());
    EXPECT_TRUE(sqlite3_stmt_readonly(stmt.get()) != 0) << sql;
  }
}

}  // namespace
}  // namespace reef::statemachine
