// SqlStateMachine: SQL coverage, failure atomicity, exactly-once sessions,
// determinism, refusals, the query path, snapshots, hostile input.
#include <cstdlib>
#include <ctime>

#include <sqlite3.h>
#include <xxhash.h>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "statemachine/query_codec.h"
#include "statemachine/snapshot_stream.h"
#include "statemachine/sql_database.h"
#include "tests/statemachine/harness.h"

namespace reef::statemachine {
namespace {

using testing::Replica;
using testing::sql;

constexpr int64_t kTime = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

Value text(const char* s) { return Value(std::string(s)); }

TEST(SqlStateMachineTest, DdlDmlIndexesJoinsOrderLimitAggregatesAlter) {
  Replica r;
  auto response = r.run({
      sql("CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, age INTEGER)"),
      sql("CREATE TABLE orders(id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES users(id), total REAL)"),
      sql("CREATE INDEX orders_by_user ON orders(user_id)"),
      sql("INSERT INTO users(name, age) VALUES (?, ?), (?, ?)", {{"", text("ann")}, {"", int64_t{31}},
                                                                {"", text("bob")}, {"", int64_t{42}}}),
      sql("INSERT INTO orders(user_id, total) VALUES (:u, :t)", {{":u", int64_t{1}}, {":t", 9.5}}),
      sql("INSERT INTO orders(user_id, total) VALUES (@u, $t)", {{"@u", int64_t{1}}, {"$t", 0.5}}),
      sql("INSERT INTO orders(user_id, total) VALUES (?2, ?1)", {{"", 7.0}, {"", int64_t{2}}}),
      sql("ALTER TABLE users ADD COLUMN email TEXT"),
      sql("ALTER TABLE users RENAME COLUMN age TO years"),
      sql("UPDATE users SET email = name || '@x' WHERE years > ?", {{"", int64_t{30}}}),
      sql("SELECT u.name, count(o.id) AS n, sum(o.total) AS s FROM users u JOIN orders o ON o.user_id = u.id "
          "GROUP BY u.id ORDER BY s DESC LIMIT 1"),
      sql("ALTER TABLE users DROP COLUMN email"),
  });
  ASSERT_TRUE(response.ok()) << response.message;
  ASSERT_EQ(response.results.size(), 12u);
  EXPECT_EQ(response.results[3].rows_affected, 2);
  EXPECT_EQ(response.results[3].last_insert_id, 2);
  EXPECT_EQ(response.results[9].rows_affected, 2);
  const StatementResult& top = response.results[10];
  ASSERT_EQ(top.columns.size(), 3u);
  EXPECT_EQ(top.columns[0].name, "name");
  EXPECT_EQ(top.columns[0].declared_type, "TEXT");
  ASSERT_EQ(top.rows.size(), 1u);
  EXPECT_EQ(top.rows[0], (Row{text("ann"), int64_t{2}, 10.0}));
  auto q = r.sm->run_query("SELECT name, years FROM users ORDER BY id");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->columns[1].name, "years");
  EXPECT_EQ(q->columns[1].declared_type, "INTEGER");
  EXPECT_EQ(q->rows.size(), 2u);
}

TEST(SqlStateMachineTest, DoubleQuotedStringLiteralsWorkAsInSqlite) {
  // rqlite's documentation writes VALUES("fiona"): a string wherever no
  // column of that name is in scope, a column where one is.
  Replica r;
  auto response = r.run({sql("CREATE TABLE foo(id INTEGER PRIMARY KEY, name TEXT DEFAULT \"nobody\")"),
                         sql("INSERT INTO foo(name) VALUES(\"fiona\")"), sql("INSERT INTO foo(id) VALUES(2)"),
                         sql("SELECT id FROM foo WHERE name = \"fiona\""),
                         sql("SELECT \"name\" FROM foo ORDER BY id")});
  ASSERT_TRUE(response.ok()) << response.message;
  EXPECT_EQ(response.results[3].rows, (std::vector<Row>{{int64_t{1}}}));
  EXPECT_EQ(response.results[4].rows, (std::vector<Row>{{text("fiona")}, {text("nobody")}}));
  auto q = r.sm->run_query("SELECT count(*) FROM foo WHERE name = \"fiona\"");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->rows, (std::vector<Row>{{int64_t{1}}}));
}

TEST(SqlStateMachineTest, ReturningGivesColumnsAndRows) {
  Replica r;
  auto response = r.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)"),
                         sql("INSERT INTO t(v) VALUES ('a'), ('b') RETURNING id, v")});
  ASSERT_TRUE(response.ok()) << response.message;
  EXPECT_EQ(response.results[1].rows, (std::vector<Row>{{int64_t{1}, text("a")}, {int64_t{2}, text("b")}}));
  EXPECT_EQ(response.results[1].rows_affected, 2);
}

TEST(SqlStateMachineTest, Fts5FullTextSearch) {
  Replica r;
  auto response = r.run({sql("CREATE VIRTUAL TABLE docs USING fts5(title, body)"),
                         sql("INSERT INTO docs VALUES ('raft', 'consensus over a replicated log')"),
                         sql("INSERT INTO docs VALUES ('sqlite', 'an embedded sql database engine')"),
                         sql("SELECT title FROM docs WHERE docs MATCH 'replicated' ORDER BY rank")});
  ASSERT_TRUE(response.ok()) << response.message;
  EXPECT_EQ(response.results[3].rows, (std::vector<Row>{{text("raft")}}));
}

TEST(SqlStateMachineTest, BatchWhoseThirdStatementFailsLeavesNoTrace) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT NOT NULL)")}).ok());
  const uint64_t before = r.hash();
  auto response = r.run({sql("INSERT INTO t(v) VALUES ('one')"), sql("CREATE TABLE u(x)"),
                         sql("INSERT INTO t(v) VALUES (NULL)"), sql("INSERT INTO t(v) VALUES ('four')")});
  EXPECT_EQ(response.status, ApplyStatus::kStatementFailed);
  EXPECT_EQ(response.failed_statement, 2);
  EXPECT_EQ(response.error_code, ErrorCode::kConstraint);
  EXPECT_NE(response.message.find("NOT NULL"), std::string::npos) << response.message;
  EXPECT_TRUE(response.results.empty());
  EXPECT_EQ(r.hash(), before);
  EXPECT_FALSE(r.sm->run_query("SELECT * FROM u").ok());
}

TEST(SqlStateMachineTest, UniqueAndForeignKeyViolationsAreConstraintErrors) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE p(id INTEGER PRIMARY KEY)"),
                     sql("CREATE TABLE c(p INTEGER REFERENCES p(id))"), sql("INSERT INTO p VALUES (1)")})
                  .ok());
  EXPECT_EQ(r.run({sql("INSERT INTO p VALUES (1)")}).error_code, ErrorCode::kConstraint);
  EXPECT_EQ(r.run({sql("INSERT INTO c VALUES (7)")}).error_code, ErrorCode::kConstraint);
}

// Runs `run_group` again on a replica that commits after every entry (one
// entry per driver turn) and expects the responses `grouped` gave and its
// state.
template <typename RunGroup>
void expect_same_as_committing_each_entry(RunGroup run_group, const std::vector<BatchResponse>& responses,
                                          Replica& grouped) {
  Replica alone;
  alone.commit_each_entry = true;
  const std::vector<BatchResponse> alone_responses = run_group(alone);
  ASSERT_EQ(alone_responses.size(), responses.size());
  for (size_t i = 0; i < responses.size(); ++i) {
    EXPECT_EQ(encode_batch_response(responses[i]), encode_batch_response(alone_responses[i])) << "entry " << i;
  }
  EXPECT_EQ(grouped.hash(), alone.hash());
}

// The entries of one commit group share a transaction: a batch that fails
// (a statement, or a deferred foreign key that only COMMIT would have
// checked) undoes itself and nothing its neighbours did, exactly as when
// every entry commits alone.
TEST(SqlStateMachineTest, AFailingBatchInACommitGroupUndoesOnlyItself) {
  const auto run_group = [](Replica& r) {
    std::vector<BatchResponse> responses;
    responses.push_back(r.run({sql("CREATE TABLE p(id INTEGER PRIMARY KEY)"),
                               sql("CREATE TABLE c(p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)")}));
    responses.push_back(r.run({sql("INSERT INTO p VALUES (1)")}));
    responses.push_back(r.run({sql("INSERT INTO p VALUES (2)"), sql("INSERT INTO c VALUES (7)")}));
    responses.push_back(r.run({sql("INSERT INTO p VALUES (3)"), sql("INSERT INTO p VALUES (1)")}));
    responses.push_back(r.run({sql("INSERT INTO c VALUES (1)"), sql("INSERT INTO p VALUES (4)")}));
    return responses;
  };
  Replica grouped;
  const std::vector<BatchResponse> responses = run_group(grouped);
  ASSERT_TRUE(grouped.sm->commit_applied().ok());
  EXPECT_TRUE(responses[1].ok());
  EXPECT_EQ(responses[2].status, ApplyStatus::kStatementFailed);
  EXPECT_EQ(responses[2].failed_statement, -1);
  EXPECT_EQ(responses[2].error_code, ErrorCode::kConstraint);
  EXPECT_EQ(responses[2].message, "at commit: FOREIGN KEY constraint failed");
  EXPECT_EQ(responses[3].failed_statement, 1);
  EXPECT_TRUE(responses[4].ok());
  auto ids = grouped.sm->run_query("SELECT group_concat(id) FROM (SELECT id FROM p ORDER BY id)");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->rows.at(0).at(0), Value(std::string("1,4")));

  expect_same_as_committing_each_entry(run_group, responses, grouped);
}

// SQLite 3.40 breaks the transaction when a savepoint that created and
// wrote an FTS table is rolled back inside it (command_batch_fuzzer found
// it): such a batch runs alone, and failing, undoes only itself.
TEST(SqlStateMachineTest, ABatchCreatingAVirtualTableFailsAloneInsideACommitGroup) {
  const auto run_group = [](Replica& r) {
    std::vector<BatchResponse> responses;
    responses.push_back(r.run({sql("CREATE TABLE t(x)"), sql("INSERT INTO t VALUES (1)")}));
    responses.push_back(r.run({sql("CREATE VIRTUAL TABLE d USING fts5(x)"), sql("INSERT INTO d VALUES ('hello')"),
                               sql("SELECT nope FROM d")}));
    responses.push_back(r.run({sql("INSERT INTO t VALUES (2)")}));
    responses.push_back(r.run({sql("CREATE VIRTUAL TABLE d USING fts5(x)"), sql("INSERT INTO d VALUES ('hi')")}));
    responses.push_back(r.run({sql("INSERT INTO t VALUES (3)")}));
    return responses;
  };
  Replica grouped;
  const std::vector<BatchResponse> responses = run_group(grouped);
  ASSERT_TRUE(grouped.sm->commit_applied().ok());
  EXPECT_EQ(responses[1].status, ApplyStatus::kStatementFailed);
  for (size_t i : {0, 2, 3, 4}) EXPECT_TRUE(responses[i].ok()) << i << ": " << responses[i].message;
  auto rows = grouped.sm->run_query("SELECT (SELECT count(*) FROM t), (SELECT count(*) FROM d)");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(rows->rows.at(0), (Row{Value(int64_t{3}), Value(int64_t{1})}));
  expect_same_as_committing_each_entry(run_group, responses, grouped);
}

TEST(SqlStateMachineTest, NoopAndGarbagePayloadsAdvanceWithClearErrors) {
  Replica r;
  EXPECT_EQ(r.apply_raw("", raft::EntryType::kNoop), "");
  for (const std::string& garbage : {std::string(), std::string("x"), std::string(1000, '\xff'),
                                     encode_command_batch(CommandBatch{}).substr(0, 10)}) {
    auto response = decode_batch_response(r.apply_raw(garbage));
    ASSERT_TRUE(response.ok());
    EXPECT_EQ(response->status, ApplyStatus::kInvalidBatch);
    EXPECT_NE(response->message.find("not a valid CommandBatch"), std::string::npos) << response->message;
  }
  EXPECT_EQ(r.sm->applied().index, raft::Index(5));
}

TEST(SqlStateMachineTest, ParameterMistakesAreReported) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(a, b)")}).ok());
  auto missing = r.run({sql("INSERT INTO t VALUES (?, ?)", {{"", int64_t{1}}})});
  EXPECT_EQ(missing.error_code, ErrorCode::kInvalidParameter);
  EXPECT_NE(missing.message.find("not bound"), std::string::npos) << missing.message;
  auto unknown = r.run({sql("INSERT INTO t VALUES (:a, 1)", {{":zz", int64_t{1}}})});
  EXPECT_EQ(unknown.error_code, ErrorCode::kInvalidParameter);
  auto blob_bool = r.run({sql("INSERT INTO t VALUES (?, ?) RETURNING a, b", {{"", Blob{""}}, {"", true}})});
  ASSERT_TRUE(blob_bool.ok()) << blob_bool.message;
  EXPECT_EQ(blob_bool.results[0].rows[0], (Row{Blob{""}, int64_t{1}}));
  auto two = r.run({sql("SELECT 1; SELECT 2")});
  EXPECT_NE(two.message.find("more than one SQL statement"), std::string::npos) << two.message;
}

CommandBatch session_batch(uint64_t client, uint64_t seq, int64_t ts, std::vector<Statement> statements) {
  return CommandBatch{CommandId{client, seq}, ts, std::move(statements)};
}

TEST(SqlStateMachineTest, ExactlyOnceDuplicateReturnsStoredResponseStaleIsRefused) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v)")}).ok());
  auto first = r.apply(session_batch(7, 1, kTime, {sql("INSERT INTO t(v) VALUES (random()) RETURNING id, v")}));
  ASSERT_TRUE(first.ok()) << first.message;
  auto second = r.apply(session_batch(7, 2, kTime, {sql("INSERT INTO t(v) VALUES (1)")}));
  ASSERT_TRUE(second.ok());
  const uint64_t hash = r.hash();
  auto retry = r.apply(session_batch(7, 2, kTime + 5, {sql("INSERT INTO t(v) VALUES (1)")}));
  EXPECT_TRUE(retry.duplicate);
  retry.duplicate = false;
  EXPECT_EQ(retry, second);
  auto stale = r.apply(session_batch(7, 1, kTime + 6, {sql("INSERT INTO t(v) VALUES (1)")}));
  EXPECT_EQ(stale.status, ApplyStatus::kStale);
  EXPECT_NE(stale.message.find("older than its last applied sequence 2"), std::string::npos) << stale.message;
  EXPECT_EQ(r.hash(), hash);
  // A failed command is remembered too: its retry gets the same failure.
  auto failed = r.apply(session_batch(7, 3, kTime, {sql("INSERT INTO nope VALUES (1)")}));
  EXPECT_EQ(failed.status, ApplyStatus::kStatementFailed);
  auto failed_retry = r.apply(session_batch(7, 3, kTime, {sql("INSERT INTO nope VALUES (1)")}));
  EXPECT_TRUE(failed_retry.duplicate);
  EXPECT_EQ(failed_retry.message, failed.message);
}

TEST(SqlStateMachineTest, SessionsExpireByLeaderTimeAndAreBounded) {
  SqlStateMachineOptions options;
  options.sessions.ttl_ms = 1000;
  options.sessions.max_sessions = 3;
  Replica r(options);
  for (uint64_t client = 1; client <= 3; ++client) {
    ASSERT_TRUE(r.apply(session_batch(client, 1, kTime + static_cast<int64_t>(client), {sql("SELECT 1")})).ok());
  }
  EXPECT_EQ(r.sm->session_count(), 3u);
  // A fourth client evicts the least recently active (client 1).
  ASSERT_TRUE(r.apply(session_batch(4, 1, kTime + 10, {sql("SELECT 1")})).ok());
  EXPECT_EQ(r.sm->session_count(), 3u);
  EXPECT_FALSE(r.apply(session_batch(1, 1, kTime + 11, {sql("SELECT 1")})).duplicate);  // new again
  EXPECT_TRUE(r.apply(session_batch(4, 1, kTime + 12, {sql("SELECT 1")})).duplicate);
  // Much later by leader time, everyone but the newcomer has expired.
  ASSERT_TRUE(r.apply(session_batch(9, 1, kTime + 5000, {sql("SELECT 1")})).ok());
  EXPECT_EQ(r.sm->session_count(), 1u);
}

// The leader timestamp is the only clock and the entry index the only seed:
// replicas whose process randomness and start time differ agree.
std::vector<Statement> nondeterministic_looking_sql() {
  return {sql("CREATE TABLE t(id INTEGER PRIMARY KEY, r, b, ts, d, tm, dt, jd, ue, sf)"),
          sql("INSERT INTO t(r, b, ts, d, tm, dt, jd, ue, sf) VALUES (random(), randomblob(16), CURRENT_TIMESTAMP, "
              "CURRENT_DATE, CURRENT_TIME, datetime('now'), julianday('now'), unixepoch('now'), "
              "strftime('%s', 'now'))"),
          sql("INSERT INTO t(r) SELECT abs(random()) % 1000 FROM t")};
}

TEST(SqlStateMachineTest, DifferentProcessStateSameResult) {
  std::srand(static_cast<unsigned>(std::time(nullptr)));
  Replica a;
  auto ra = a.run(nondeterministic_looking_sql(), kTime);
  auto rb_first = a.run({sql("SELECT random(), randomblob(4)")}, kTime);
  std::srand(12345);
  for (int i = 0; i < 1000; ++i) (void)std::rand();
  Replica b;
  auto rb = b.run(nondeterministic_looking_sql(), kTime);
  auto rb_second = b.run({sql("SELECT random(), randomblob(4)")}, kTime);
  ASSERT_TRUE(ra.ok()) << ra.message;
  EXPECT_EQ(ra, rb);
  EXPECT_EQ(rb_first, rb_second);
  EXPECT_EQ(a.hash(), b.hash());
  auto row = a.sm->run_query("SELECT ts, d, tm, dt, ue, sf FROM t WHERE id = 1");
  ASSERT_TRUE(row.ok()) << row.status();
  EXPECT_EQ(row->rows[0], (Row{text("2023-11-14 22:13:20"), text("2023-11-14"), text("22:13:20"),
                               text("2023-11-14 22:13:20"), int64_t{1'700'000'000}, text("1700000000")}));
  // Another index gives other random values (the seed really moves).
  auto later = a.run({sql("SELECT random()")}, kTime);
  EXPECT_NE(later.results[0].rows[0], rb_first.results[0].rows[0]);
}

void expect_refused(Replica& r, const std::string& text, const std::string& reason) {
  auto response = r.run({sql(text)});
  EXPECT_EQ(response.status, ApplyStatus::kStatementFailed) << text;
  EXPECT_EQ(response.error_code, ErrorCode::kRefused) << text << ": " << response.message;
  EXPECT_NE(response.message.find(reason), std::string::npos) << text << ": " << response.message;
}

TEST(SqlStateMachineTest, UnsafeOrNondeterministicSqlIsRefused) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(x)")}).ok());
  expect_refused(r, "ATTACH DATABASE '/tmp/x.db' AS x", "ATTACH");
  expect_refused(r, "SELECT load_extension('/tmp/evil.so')", "load_extension");
  expect_refused(r, "PRAGMA journal_mode = WAL", "PRAGMA journal_mode");
  expect_refused(r, "PRAGMA writable_schema = ON", "PRAGMA writable_schema");
  expect_refused(r, "PRAGMA foreign_keys = OFF", "PRAGMA foreign_keys");
  expect_refused(r, "PRAGMA temp_store_directory = '/tmp'", "temp_store_directory");
  expect_refused(r, "CREATE TEMP TABLE x(y)", "temp");
  expect_refused(r, "BEGIN", "transaction control");
  expect_refused(r, "SAVEPOINT s", "transaction control");
  expect_refused(r, "SELECT * FROM reef_sessions", "reserved");
  expect_refused(r, "DELETE FROM REEF_SESSIONS", "reserved");
  expect_refused(r, "CREATE TABLE reef_mine(x)", "reserved");
  expect_refused(r, "SELECT changes()", "changes()");
  expect_refused(r, "SELECT total_changes()", "total_changes()");
  expect_refused(r, "ANALYZE", "ANALYZE");
  expect_refused(r, "CREATE VIRTUAL TABLE s USING dbstat", "virtual table module");
  EXPECT_EQ(r.run({sql("VACUUM INTO '/tmp/reef-vacuum-into.db'")}).status, ApplyStatus::kStatementFailed);
  EXPECT_EQ(r.sm->run_query("VACUUM INTO '/tmp/reef-vacuum-into.db'").status().code(), absl::StatusCode::kPermissionDenied);
  // Allowed: introspection and replicated header fields.
  EXPECT_TRUE(r.run({sql("PRAGMA table_info(t)"), sql("PRAGMA user_version = 3")}).ok());
  auto version = r.sm->run_query("PRAGMA user_version");
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_EQ(version->rows[0][0], Value(int64_t{3}));
}

// The leader's last word before a batch enters the log: stamped with its
// clock, never earlier than what was applied, and refused when a statement
// could not run the same way everywhere.
TEST(SqlStateMachineTest, PrepareProposalStampsTheLeaderClockAndRefusesUnsafeStatements) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(x)")}, /*timestamp_ms=*/5000).ok());
  const std::string payload = encode_command_batch(CommandBatch{CommandId{7, 1}, 0, {sql("INSERT INTO t VALUES (1)")}});

  auto stamped = r.sm->prepare_proposal(payload, 9000);
  ASSERT_TRUE(stamped.ok()) << stamped.status();
  auto batch = decode_command_batch(*stamped);
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->leader_timestamp_ms, 9000);
  EXPECT_EQ(batch->id, (CommandId{7, 1}));
  // A new leader whose clock is behind the last applied entry does not move "now" back.
  auto behind = r.sm->prepare_proposal(payload, 1000);
  ASSERT_TRUE(behind.ok());
  EXPECT_EQ(decode_command_batch(*behind)->leader_timestamp_ms, 5000);

  const std::string unsafe = encode_command_batch(
      CommandBatch{CommandId{7, 2}, 0, {sql("INSERT INTO t VALUES (2)"), sql("ATTACH 'x.db' AS x")}});
  auto refused = r.sm->prepare_proposal(unsafe, 9000);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(refused.status().message()), ::testing::HasSubstr("statement 1"));
  EXPECT_EQ(r.sm->prepare_proposal("not a batch", 9000).status().code(), absl::StatusCode::kInvalidArgument);
}

// An entry an earlier leader stamped ahead may commit before one a new
// leader, whose clock is behind, stamped later: apply keeps "now" where it
// was rather than let it go back. Every replica applies the same sequence,
// so every replica clamps the same way.
TEST(SqlStateMachineTest, ApplyNeverLetsNowGoBackAlongTheLog) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, ms INTEGER)")}, kTime).ok());
  const Statement insert_now = sql("INSERT INTO t(ms) VALUES (CAST(ROUND((julianday('now') - 2440587.5) * 86400000) AS INTEGER))");
  ASSERT_TRUE(r.run({insert_now}, kTime + 9000).ok());
  ASSERT_TRUE(r.run({insert_now}, kTime + 4000).ok());  // stamped by a leader 5 s behind
  ASSERT_TRUE(r.run({insert_now}, kTime + 9500).ok());
  auto q = r.sm->run_query("SELECT ms FROM t ORDER BY id");
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->rows, (std::vector<Row>{{kTime + 9000}, {kTime + 9000}, {kTime + 9500}}));
  EXPECT_EQ(r.sm->applied_time_ms(), kTime + 9500);

  SqlStateMachineOptions buggy;  // reef-sim --bug time-goes-back
  buggy.injected_bug_trust_leader_clock = true;
  Replica b(buggy);
  ASSERT_TRUE(b.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, ms INTEGER)")}, kTime).ok());
  ASSERT_TRUE(b.run({insert_now}, kTime + 9000).ok());
  ASSERT_TRUE(b.run({insert_now}, kTime + 4000).ok());
  EXPECT_EQ(b.sm->applied_time_ms(), kTime + 4000);
}

// The host is told when its clock is more than clock_behind_report_ms behind
// the data (it logs it: prod/observe/node_observer.h), and only then.
TEST(SqlStateMachineTest, PrepareProposalReportsALeaderClockFarBehindTheAppliedTime) {
  std::vector<std::pair<int64_t, int64_t>> reports;
  SqlStateMachineOptions options;
  options.on_leader_clock_behind = [&](int64_t wall, int64_t applied) { reports.emplace_back(wall, applied); };
  Replica r(options);
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(x)")}, kTime).ok());
  const std::string payload = encode_command_batch(CommandBatch{CommandId{7, 1}, 0, {sql("INSERT INTO t VALUES (1)")}});
  ASSERT_TRUE(r.sm->prepare_proposal(payload, kTime + 5).ok());     // ahead
  ASSERT_TRUE(r.sm->prepare_proposal(payload, kTime - 1000).ok());  // behind, within the margin
  EXPECT_TRUE(reports.empty());
  auto behind = r.sm->prepare_proposal(payload, kTime - 60'000);
  ASSERT_TRUE(behind.ok());
  EXPECT_EQ(decode_command_batch(*behind)->leader_timestamp_ms, kTime);
  EXPECT_EQ(reports, (std::vector<std::pair<int64_t, int64_t>>{{kTime - 60'000, kTime}}));
}

TEST(SqlStateMachineTest, RunawayStatementHitsTheDeterministicBudget) {
  SqlStateMachineOptions options;
  options.apply_step_budget = 1000;
  Replica r(options);
  auto response = r.run({sql("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c")});
  EXPECT_EQ(response.error_code, ErrorCode::kResourceLimit);
  EXPECT_NE(response.message.find("execution budget"), std::string::npos) << response.message;
  EXPECT_EQ(r.run({sql("SELECT randomblob(100000000)")}).error_code, ErrorCode::kResourceLimit);
}

TEST(SqlStateMachineTest, QueryPathIsReadOnly) {
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE kv(k TEXT PRIMARY KEY, v BLOB)"),
                     sql("INSERT INTO kv VALUES ('a', x'00ff')")})
                  .ok());
  auto hit = r.sm->run_query("SELECT v FROM kv WHERE k = :k", {{":k", text("a")}});
  ASSERT_TRUE(hit.ok()) << hit.status();
  EXPECT_EQ(hit->rows, (std::vector<Row>{{Blob{std::string("\x00\xff", 2)}}}));
  EXPECT_EQ(hit->columns[0].declared_type, "BLOB");
  EXPECT_EQ(r.sm->run_query("DELETE FROM kv").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.sm->run_query("CREATE TABLE x(y)").status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(r.sm->run_query("SELEC 1").status().code(), absl::StatusCode::kInvalidArgument);
  // Through the port: bytes in, bytes out, errors inside the response.
  auto bytes = r.sm->query(encode_query_request(sql("SELECT k FROM kv")));
  ASSERT_TRUE(bytes.ok());
  auto decoded = decode_query_response(*bytes);
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->rows, (std::vector<Row>{{text("a")}}));
  auto refused = decode_query_response(*r.sm->query(encode_query_request(sql("DROP TABLE kv"))));
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->error_code, ErrorCode::kRefused);
  auto garbage = decode_query_response(*r.sm->query("garbage"));
  ASSERT_TRUE(garbage.ok());
  EXPECT_EQ(garbage->error_code, ErrorCode::kInvalidBatch);
}

std::string read_all(raft::StateMachineSnapshot& snapshot, uint64_t chunk) {
  std::string out;
  while (true) {
    auto next = snapshot.next_chunk(chunk);
    EXPECT_TRUE(next.ok());
    if (!next.ok() || !next->has_value()) return out;
    out += **next;
  }
}

// What a tool lists as the user's tables: sqlite_master without SQLite's
// reserved sqlite_ names (sqlite_sequence, sqlite_stat1, and ReefDB's one
// marker, sqlite_reef_applied: applied_record.h).
std::vector<Row> user_objects(Replica& r) {
  auto q = r.sm->run_query("SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  EXPECT_TRUE(q.ok()) << q.status();
  return q.ok() ? q->rows : std::vector<Row>{};
}

TEST(SqlStateMachineTest, UserSchemaShowsOnlyUserObjectsAndDropEveryTableKeepsExactlyOnce) {
  Replica r;
  ASSERT_TRUE(r.apply(session_batch(4, 1, kTime, {sql("CREATE TABLE a(x)"), sql("CREATE TABLE b(y)")})).ok());
  ASSERT_TRUE(r.apply(session_batch(5, 1, kTime, {sql("INSERT INTO a VALUES (1)")})).ok());
  EXPECT_EQ(user_objects(r), (std::vector<Row>{{text("a")}, {text("b")}}));
  // A test-teardown loop: drop whatever sqlite_master lists.
  for (const Row& row : user_objects(r)) {
    auto dropped = r.run({sql(absl::StrCat("DROP TABLE \"", std::get<std::string>(row[0]), "\""))});
    EXPECT_TRUE(dropped.ok()) << dropped.message;
  }
  EXPECT_TRUE(user_objects(r).empty());
  // The sessions survived it: a retry is still a duplicate.
  EXPECT_TRUE(r.apply(session_batch(5, 1, kTime, {sql("INSERT INTO a VALUES (1)")})).duplicate);
  EXPECT_EQ(r.sm->session_count(), 2u);
}

TEST(SqlStateMachineTest, ClientSqlCannotReachTheAppliedMarker) {
  Replica r;
  ASSERT_TRUE(r.apply(session_batch(4, 1, kTime, {sql("CREATE TABLE a(x)")})).ok());
  for (const char* statement : {"SELECT * FROM sqlite_reef_applied", "DELETE FROM sqlite_reef_applied",
                                "UPDATE sqlite_reef_applied SET applied_index = 0", "DROP TABLE sqlite_reef_applied",
                                "INSERT INTO sqlite_reef_applied VALUES (1, 1)"}) {
    auto response = r.run({sql(statement)});
    EXPECT_EQ(response.error_code, ErrorCode::kRefused) << statement << ": " << response.message;
  }
  EXPECT_FALSE(r.sm->run_query("SELECT applied_index FROM sqlite_reef_applied").ok());
}

TEST(SqlStateMachineTest, ClientSqlCannotReachTheInternalSchema) {
  Replica r;
  ASSERT_TRUE(r.apply(session_batch(4, 1, kTime, {sql("CREATE TABLE a(x)")})).ok());
  for (const char* statement :
       {"SELECT * FROM reef_internal.sqlite_master", "SELECT count(*) FROM reef_internal.reef_sessions",
        "CREATE TABLE reef_internal.mine(x)", "DELETE FROM reef_internal.reef_sessions",
        "DROP TABLE reef_internal.reef_sessions", "PRAGMA reef_internal.user_version = 3",
        "PRAGMA reef_internal.table_info(reef_sessions)"}) {
    auto response = r.run({sql(statement)});
    EXPECT_EQ(response.error_code, ErrorCode::kRefused) << statement << ": " << response.message;
    EXPECT_NE(response.message.find("reef_internal schema is reserved"), std::string::npos)
        << statement << ": " << response.message;
  }
  auto read = r.sm->run_query("SELECT * FROM reef_internal.reef_sessions");
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("reef_internal schema is reserved"), std::string::npos) << read.status();
  EXPECT_TRUE(r.apply(session_batch(4, 1, kTime, {sql("CREATE TABLE a(x)")})).duplicate);
}

TEST(SqlStateMachineTest, FailedBatchRollsBackItsSessionChangesWithItsData) {
  // The batch's writes and its session record share one transaction: the
  // failure's record replaces the success's, and no row of the batch stays.
  Replica r;
  ASSERT_TRUE(r.run({sql("CREATE TABLE t(v NOT NULL)")}).ok());
  auto failed = r.apply(session_batch(6, 1, kTime, {sql("INSERT INTO t VALUES (1)"), sql("INSERT INTO t VALUES (NULL)")}));
  EXPECT_EQ(failed.status, ApplyStatus::kStatementFailed);
  auto retry = r.apply(session_batch(6, 1, kTime, {sql("INSERT INTO t VALUES (1)"), sql("INSERT INTO t VALUES (2)")}));
  EXPECT_TRUE(retry.duplicate);
  EXPECT_EQ(retry.status, ApplyStatus::kStatementFailed);
  EXPECT_EQ(r.sm->run_query("SELECT count(*) FROM t")->rows[0][0], Value(int64_t{0}));
}

// A snapshot as the code before the internal schema wrote it: version 1,
// one image, the sessions table inside main.
std::string old_layout_snapshot(uint64_t client, uint64_t sequence, const std::string& stored_response) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  const char* schema =
      "CREATE TABLE reef_sessions(client_id INTEGER PRIMARY KEY, last_sequence INTEGER NOT NULL, "
      "last_active_ms INTEGER NOT NULL, response BLOB NOT NULL);"
      "CREATE INDEX reef_sessions_by_activity ON reef_sessions(last_active_ms, client_id);"
      "CREATE TABLE t(v); INSERT INTO t VALUES ('kept');";
  EXPECT_EQ(sqlite3_exec(db, schema, nullptr, nullptr, nullptr), SQLITE_OK) << sqlite3_errmsg(db);
  sqlite3_stmt* insert = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO reef_sessions VALUES (?, ?, ?, ?)", -1, &insert, nullptr);
  sqlite3_bind_int64(insert, 1, static_cast<sqlite3_int64>(client));
  sqlite3_bind_int64(insert, 2, static_cast<sqlite3_int64>(sequence));
  sqlite3_bind_int64(insert, 3, kTime);
  sqlite3_bind_blob(insert, 4, stored_response.data(), static_cast<int>(stored_response.size()), SQLITE_TRANSIENT);
  EXPECT_EQ(sqlite3_step(insert), SQLITE_DONE);
  sqlite3_finalize(insert);
  sqlite3_int64 size = 0;
  DatabaseImages images;
  images.main = DatabaseImage{std::unique_ptr<unsigned char, SqliteFree>(sqlite3_serialize(db, "main", &size, 0)), size};
  sqlite3_close(db);
  StateSnapshotMeta meta;
  meta.raft = raft::SnapshotMeta{raft::Index(9), raft::Term(1), raft::Configuration::of_voters({raft::NodeId(1)})};
  ImageSnapshot snapshot(meta, std::move(images));
  std::string bytes = read_all(snapshot, 1 << 20);
  // Version 1 and its header checksum: the meta has no internal image length.
  bytes[8] = 1;
  const uint64_t checksum = XXH3_64bits(bytes.data(), 40);
  for (int i = 0; i < 8; ++i) bytes[40 + i] = static_cast<char>((checksum >> (8 * i)) & 0xff);
  return bytes;
}

TEST(SqlStateMachineTest, OldLayoutSnapshotMovesItsSessionsIntoTheInternalSchema) {
  BatchResponse stored;
  stored.id = CommandId{11, 3};
  stored.results.push_back(StatementResult{});
  const std::string bytes = old_layout_snapshot(11, 3, encode_batch_response(stored));
  uint64_t hashes[2] = {0, 0};
  for (uint64_t& hash : hashes) {
    Replica r;
    auto restore = *r.sm->begin_restore();
    ASSERT_TRUE(restore->add_chunk(bytes).ok());
    auto meta = restore->finish();
    ASSERT_TRUE(meta.ok()) << meta.status();
    EXPECT_EQ(user_objects(r), (std::vector<Row>{{text("t")}}));
    EXPECT_EQ(r.sm->session_count(), 1u);
    EXPECT_TRUE(r.apply(session_batch(11, 3, kTime, {sql("INSERT INTO t VALUES ('again')")})).duplicate);
    EXPECT_EQ(r.sm->run_query("SELECT count(*) FROM t")->rows[0][0], Value(int64_t{1}));
    hash = r.hash();
  }
  EXPECT_EQ(hashes[0], hashes[1]);  // the move is deterministic
}

TEST(SqlStateMachineTest, SnapshotRestoresEverythingInAnyChunking) {
  Replica a;
  ASSERT_TRUE(a.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, v)"),
                     sql("INSERT INTO t(v) SELECT randomblob(100) FROM (WITH RECURSIVE c(x) AS "
                         "(SELECT 1 UNION ALL SELECT x + 1 FROM c LIMIT 500) SELECT x FROM c)")})
                  .ok());
  ASSERT_TRUE(a.apply(session_batch(3, 1, kTime, {sql("INSERT INTO t(v) VALUES (1)")})).ok());
  auto snapshot = a.sm->snapshot(raft::Configuration::of_voters({raft::NodeId(1), raft::NodeId(2)}));
  ASSERT_TRUE(snapshot.ok()) << snapshot.status();
  const std::string bytes = read_all(**snapshot, 777);
  EXPECT_EQ(bytes.size(), (*snapshot)->size_bytes());
  ASSERT_TRUE(a.run({sql("DELETE FROM t")}).ok());  // the snapshot is unaffected
  Replica b;
  auto restore = b.sm->begin_restore();
  ASSERT_TRUE(restore.ok());
  for (size_t i = 0; i < bytes.size(); i += 1000) ASSERT_TRUE((*restore)->add_chunk(bytes.substr(i, 1000)).ok());
  auto meta = (*restore)->finish();
  ASSERT_TRUE(meta.ok()) << meta.status();
  EXPECT_EQ(meta->index, raft::Index(2));
  EXPECT_EQ(meta->configuration, raft::Configuration::of_voters({raft::NodeId(1), raft::NodeId(2)}));
  EXPECT_EQ(b.sm->applied().index, raft::Index(2));
  EXPECT_EQ(b.sm->last_command(), (CommandId{3, 1}));
  // The sessions came along: the retry is a duplicate on the restored replica.
  EXPECT_TRUE(b.apply(session_batch(3, 1, kTime, {sql("INSERT INTO t(v) VALUES (1)")})).duplicate);
  auto count = b.sm->run_query("SELECT count(*) FROM t");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->rows[0][0], Value(int64_t{501}));
}

TEST(SqlStateMachineTest, DamagedOrTruncatedSnapshotLeavesStateUnchanged) {
  Replica a;
  ASSERT_TRUE(a.run({sql("CREATE TABLE t(v)"), sql("INSERT INTO t VALUES (1)")}).ok());
  const std::string bytes = read_all(**a.sm->snapshot(raft::Configuration::of_voters({raft::NodeId(1)})), 4096);
  Replica b;
  ASSERT_TRUE(b.run({sql("CREATE TABLE mine(v)")}).ok());
  const uint64_t before = b.hash();
  for (size_t position : {size_t{3}, size_t{20}, size_t{50}, bytes.size() - 1}) {
    std::string damaged = bytes;
    damaged[position] ^= 0x40;
    auto restore = *b.sm->begin_restore();
    const absl::Status added = restore->add_chunk(damaged);
    const absl::Status finished = added.ok() ? restore->finish().status() : added;
    EXPECT_FALSE(finished.ok()) << "flipped byte " << position;
  }
  auto truncated = *b.sm->begin_restore();
  ASSERT_TRUE(truncated->add_chunk(bytes.substr(0, bytes.size() - 1)).ok());
  EXPECT_EQ(truncated->finish().status().code(), absl::StatusCode::kInvalidArgument);
  auto longer = *b.sm->begin_restore();
  EXPECT_FALSE(longer->add_chunk(bytes + "x").ok());
  { auto abandoned = *b.sm->begin_restore(); ASSERT_TRUE(abandoned->add_chunk(bytes).ok()); }
  EXPECT_EQ(b.hash(), before);
  EXPECT_EQ(b.sm->applied().index, raft::Index(1));
}

TEST(CommandBatchCodecTest, RoundTrip) {
  CommandBatch batch{CommandId{UINT64_MAX, 5}, -3,
                     {sql("SELECT ?, :a", {{"", Value()}, {":a", Blob{"\x00\x01"}}}),
                      sql("SELECT ?, ?, ?", {{"", 1.25}, {"", false}, {"", int64_t{-9}}})}};
  auto decoded = decode_command_batch(encode_command_batch(batch));
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(*decoded, batch);
}

}  // namespace
}  // namespace reef::statemachine
