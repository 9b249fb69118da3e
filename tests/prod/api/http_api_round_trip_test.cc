// The HTTP API end to end without sockets: HttpRequest -> parse/plan ->
// a real SqlStateMachine (batches through prepare_proposal + apply, reads
// through query) -> write_results -> the JSON rqlite would answer. Also
// every request-level error response.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "prod/api/http_request_parser.h"
#include "prod/api/http_response_writer.h"
#include "raft/driver/node_freshness.h"
#include "statemachine/sql_state_machine.h"

namespace reef::prod::http {
namespace {

using nlohmann::json;

constexpr uint64_t kNowMs = 1'700'000'000'000;
constexpr double kOperationSeconds = 0.25;

// One node that is the leader: what the Beast server will do, minus sockets.
class Node {
 public:
  Node() {
    auto created = statemachine::SqlStateMachine::create();
    EXPECT_TRUE(created.ok()) << created.status();
    sm_ = *std::move(created);
  }

  HttpResponse handle(const std::string& method, const std::string& target, const std::string& body = "",
                      double elapsed_seconds = 0) {
    auto parsed = parse_api_request(HttpRequest{method, target, body});
    if (!parsed.ok()) return write_error(parsed.error());
    std::vector<OperationOutcome> outcomes;
    for (const Operation& operation : parsed->operations) outcomes.push_back(run(*parsed, operation));
    return write_results(*parsed, outcomes, ResponseContext{elapsed_seconds, target, std::nullopt});
  }

  HttpResponse post(const std::string& target, const std::string& body) {
    return handle("POST", target, body);
  }

  json results(const std::string& target, const std::string& body) {
    HttpResponse response = post(target, body);
    EXPECT_EQ(response.status, 200) << response.body;
    return json::parse(response.body)["results"];
  }

 private:
  OperationOutcome run(const ApiRequest& request, const Operation& operation) {
    OperationOutcome outcome;
    if (!needs_node(operation)) return outcome;
    const std::string payload = operation_payload(operation);
    outcome.elapsed_seconds = kOperationSeconds;
    if (operation.kind == OperationKind::kRead) {
      EXPECT_NE(request_kind(request, operation), raft::RequestKind::kWrite);
      auto answer = sm_->query(payload);
      EXPECT_TRUE(answer.ok()) << answer.status();
      outcome.response = answer.ok() ? *answer : "";
      return outcome;
    }
    auto prepared = sm_->prepare_proposal(payload, kNowMs);
    if (!prepared.ok()) {
      outcome.status = prepared.status();
      return outcome;
    }
    const raft::Index index = sm_->applied().index.next();
    auto answer = sm_->apply(raft::LogEntry{raft::Term(1), index, raft::EntryType::kNormal, *prepared});
    EXPECT_TRUE(answer.ok()) << answer.status();
    outcome.response = answer.ok() ? *answer : "";
    outcome.raft_index = index.value();
    return outcome;
  }

  std::unique_ptr<statemachine::SqlStateMachine> sm_;
};

constexpr const char* kCreateFoo =
    R"json(["CREATE TABLE foo (id INTEGER NOT NULL PRIMARY KEY, name TEXT, age INTEGER)"])json";

TEST(HttpApiRoundTripTest, ExecuteGivesRqliteShapesWithRaftIndex) {
  Node node;
  HttpResponse created = node.post("/db/execute", kCreateFoo);
  EXPECT_EQ(created.status, 200);
  EXPECT_EQ(created.content_type, "application/json; charset=utf-8");
  EXPECT_EQ(created.body, R"({"results":[{}],"raft_index":1})");
  HttpResponse inserted =
      node.post("/db/execute", R"json([["INSERT INTO foo(name, age) VALUES(?, ?)", "fiona", 20]])json");
  EXPECT_EQ(inserted.body, R"({"results":[{"last_insert_id":1,"rows_affected":1}],"raft_index":2})");
  HttpResponse named = node.post(
      "/db/execute",
      R"json([["INSERT INTO foo(name, age) VALUES(:name, :age)", {"name": "declan", "age": 25}]])json");
  EXPECT_EQ(json::parse(named.body)["results"][0], json::parse(R"({"last_insert_id":2,"rows_affected":1})"));
  HttpResponse updated = node.post("/db/execute", R"(["UPDATE foo SET age = age + 1"])");
  EXPECT_EQ(json::parse(updated.body)["results"][0], json::parse(R"({"rows_affected":2})"));
}

TEST(HttpApiRoundTripTest, QueryByGetAndPostGivesColumnsTypesValues) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  node.post("/db/execute", R"json([["INSERT INTO foo(name, age) VALUES(?, ?)", "fiona", 20]])json");
  const json expected = json::parse(
      R"({"results":[{"columns":["id","name","age"],"types":["integer","text","integer"],"values":[[1,"fiona",20]]}]})");
  HttpResponse got = node.handle("GET", "/db/query?q=SELECT%20*%20FROM%20foo");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body), expected);
  EXPECT_EQ(got.body, expected.dump());  // exact bytes: rqlite's key order, no raft_index on reads
  HttpResponse posted =
      node.post("/db/query", R"([["SELECT * FROM foo WHERE name = :name", {"name": "fiona"}]])");
  EXPECT_EQ(json::parse(posted.body), expected);
  // No rows: columns and types, no values (Go's omitempty).
  EXPECT_EQ(node.results("/db/query", R"(["SELECT * FROM foo WHERE id = 99"])")[0],
            json::parse(R"({"columns":["id","name","age"],"types":["integer","text","integer"]})"));
}

TEST(HttpApiRoundTripTest, DoubleQuotedStringLiteralsAsInRqlitesDocs) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  EXPECT_EQ(node.results("/db/execute", R"json(["INSERT INTO foo(name, age) VALUES(\"fiona\", 20)"])json")[0],
            json::parse(R"({"last_insert_id":1,"rows_affected":1})"));
  const json expected = json::parse(R"({"columns":["id","name"],"types":["integer","text"],"values":[[1,"fiona"]]})");
  EXPECT_EQ(node.results("/db/query", R"json(["SELECT id, name FROM foo WHERE name = \"fiona\""])json")[0], expected);
  HttpResponse got = node.handle("GET", "/db/query?q=SELECT%20id%2C%20name%20FROM%20foo%20WHERE%20name%20%3D%20%22fiona%22");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["results"][0], expected);
}

TEST(HttpApiRoundTripTest, ValueTypesAndExpressionTypes) {
  Node node;
  json row = node.results(
      "/db/query", R"(["SELECT 1 AS i, 1.5 AS r, 'x' AS t, x'00ff10' AS b, NULL AS n, 1e999 AS inf"])")[0];
  EXPECT_EQ(row,
            json::parse(
                R"({"columns":["i","r","t","b","n","inf"],"types":["integer","real","text","blob","","real"],
                                 "values":[[1,1.5,"x","AP8Q",null,null]]})"));
  json as_array = node.results("/db/query?blob_array", R"(["SELECT x'00ff10' AS b"])")[0];
  EXPECT_EQ(as_array["values"], json::parse("[[[0,255,16]]]"));
  // Declared types come through lower-cased, whatever the value.
  node.post("/db/execute", R"json(["CREATE TABLE v (a VARCHAR(10), b BLOB, c)"])json");
  node.post("/db/execute", R"json([["INSERT INTO v VALUES (?, ?, ?)", 5, "s", 2.5]])json");
  EXPECT_EQ(node.results("/db/query", R"(["SELECT * FROM v"])")[0]["types"],
            json::parse(R"json(["varchar(10)","blob","real"])json"));
}

// rqlite's driver turns DATE, DATETIME and TIMESTAMP columns into times and
// rqlite writes them as RFC 3339, which clients' timestamp converters read.
// The leader's clock in this test is kNowMs, 2023-11-14 22:13:20.000 UTC.
TEST(HttpApiRoundTripTest, TimeColumnsComeBackAsRfc3339AsInRqlite) {
  Node node;
  node.results(
      "/db/execute",
      R"json(["CREATE TABLE ev (id INTEGER PRIMARY KEY, at DATETIME DEFAULT CURRENT_TIMESTAMP, day date, ts TimeStamp, note TEXT)"])json");
  node.results("/db/execute", R"json([
      ["INSERT INTO ev(id, day, ts, note) VALUES (1, date('now'), ?, datetime('now'))", 1700000000123],
      ["INSERT INTO ev VALUES (2, '2024-02-29 23:59:59.250+05:30', '2024-01-02T03:04', 1700000000, 'x')"],
      ["INSERT INTO ev VALUES (3, 'not a time', NULL, 2.5, 'y')"]])json");
  const json expected = json::parse(R"json([
      [1, "2023-11-14T22:13:20Z", "2023-11-14T00:00:00Z", "2023-11-14T22:13:20.123Z", "2023-11-14 22:13:20"],
      [2, "2024-02-29T23:59:59.25+05:30", "2024-01-02T03:04:00Z", "2023-11-14T22:13:20Z", "x"],
      [3, "0001-01-01T00:00:00Z", null, 2.5, "y"]])json");
  const json rows = node.results("/db/query", R"(["SELECT * FROM ev ORDER BY id"])")[0];
  EXPECT_EQ(rows["types"], json::parse(R"(["integer","datetime","date","timestamp","text"])"));
  EXPECT_EQ(rows["values"], expected);
  // The same through the log, and as objects.
  EXPECT_EQ(node.results("/db/query?level=strong", R"(["SELECT * FROM ev ORDER BY id"])")[0]["values"],
            expected);
  EXPECT_EQ(node.results("/db/query?associative", R"(["SELECT id, at FROM ev WHERE id = 1"])")[0]["rows"],
            json::parse(R"([{"at":"2023-11-14T22:13:20Z","id":1}])"));
  // Only the column's declared type counts: the same text from an
  // expression, or from a column declared otherwise, stays text.
  EXPECT_EQ(node.results("/db/query",
                         R"(["SELECT CAST(at AS TEXT) AS t, note FROM ev WHERE id = 1"])")[0]["values"],
            json::parse(R"([["2023-11-14 22:13:20", "2023-11-14 22:13:20"]])"));
}

TEST(HttpApiRoundTripTest, InvalidUtf8TextIsReplacedNotFatal) {
  Node node;
  HttpResponse response = node.post("/db/query", R"(["SELECT CAST(x'41ff42' AS TEXT) AS t"])");
  EXPECT_EQ(response.status, 200);
  EXPECT_EQ(json::parse(response.body)["results"][0]["values"][0][0],
            "A\xEF\xBF\xBD"
            "B");
}

TEST(HttpApiRoundTripTest, AssociativeRowsAndUnifiedWriteEntries) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  node.post(
      "/db/execute",
      R"json(["INSERT INTO foo(name, age) VALUES('fiona', 20)", "INSERT INTO foo(name, age) VALUES('declan', 25)"])json");
  HttpResponse response = node.handle("GET", "/db/query?associative&q=SELECT%20*%20FROM%20foo");
  EXPECT_EQ(
      response.body,
      R"({"results":[{"types":{"age":"integer","id":"integer","name":"text"},"rows":[{"age":20,"id":1,"name":"fiona"},{"age":25,"id":2,"name":"declan"}]}]})");
  json unified =
      node.results("/db/request?associative",
                   R"json(["INSERT INTO foo(name) VALUES('x')", "SELECT id FROM foo WHERE id > 99"])json");
  EXPECT_EQ(
      unified,
      json::parse(
          R"([{"last_insert_id":3,"rows_affected":1,"rows":null},{"types":{"id":"integer"},"rows":[]}])"));
  // /db/execute keeps rqlite's plain write entries even when associative.
  EXPECT_EQ(node.results("/db/execute?associative", R"(["DELETE FROM foo WHERE id = 3"])")[0],
            json::parse(R"({"rows_affected":1})"));
}

TEST(HttpApiRoundTripTest, TimingsAndPretty) {
  Node node;
  HttpResponse timed = node.handle("POST", "/db/execute?timings", kCreateFoo, 0.5);
  EXPECT_EQ(timed.body, R"({"results":[{"time":0.25}],"time":0.5,"raft_index":1})");
  HttpResponse untimed =
      node.handle("POST", "/db/execute", R"json(["INSERT INTO foo(name) VALUES('a')"])json", 0.5);
  EXPECT_EQ(untimed.body.find("time"), std::string::npos);
  HttpResponse pretty = node.handle("GET", "/db/query?pretty&q=SELECT%201%20AS%20one");
  EXPECT_EQ(pretty.body, R"({
    "results": [
        {
            "columns": [
                "one"
            ],
            "types": [
                "integer"
            ],
            "values": [
                [
                    1
                ]
            ]
        }
    ]
})");
}

TEST(HttpApiRoundTripTest, WithoutTransactionEachStatementStandsAlone) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  json results = node.results(
      "/db/execute",
      R"json(["INSERT INTO foo(name) VALUES('a')", "INSERT nonsense", "INSERT INTO foo(name) VALUES('b')"])json");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], json::parse(R"({"last_insert_id":1,"rows_affected":1})"));
  EXPECT_EQ(results[1]["code"], "sql_error");
  EXPECT_EQ(results[1]["error"], "near \"nonsense\": syntax error");
  EXPECT_EQ(results[1]["error"].get<std::string>().rfind("statement", 0), std::string::npos) << results[1];
  EXPECT_EQ(results[2], json::parse(R"({"last_insert_id":2,"rows_affected":1})"));
  EXPECT_EQ(node.results("/db/query", R"(["SELECT count(*) AS n FROM foo"])")[0]["values"],
            json::parse("[[2]]"));
}

TEST(HttpApiRoundTripTest, FailedTransactionRollsEverythingBack) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  json results =
      node.results("/db/execute?transaction",
                   R"json(["INSERT INTO foo(id, name) VALUES(1, 'a')", "INSERT INTO foo(name) VALUES('b')",
                                  "INSERT INTO foo(id, name) VALUES(1, 'dup')", "INSERT INTO foo(name) VALUES('never')"])json");
  ASSERT_EQ(results.size(), 3u) << results;
  EXPECT_EQ(results[0]["code"], "rolled_back");
  EXPECT_EQ(results[1]["code"], "rolled_back");
  // The first error a client reads names the failed statement (counted
  // from 1) and why; the failed one carries SQLite's message as rqlite does.
  EXPECT_EQ(results[0]["error"], "rolled back: statement 3 of 4 failed: UNIQUE constraint failed: foo.id");
  EXPECT_EQ(results[1]["error"], results[0]["error"]);
  EXPECT_EQ(results[2]["code"], "constraint");
  EXPECT_EQ(results[2]["error"], "UNIQUE constraint failed: foo.id");
  EXPECT_EQ(node.results("/db/query", R"(["SELECT count(*) FROM foo"])")[0]["values"], json::parse("[[0]]"));
  json ok =
      node.results("/db/execute?transaction",
                   R"json(["INSERT INTO foo(name) VALUES('a')", "INSERT INTO foo(name) VALUES('b')"])json");
  EXPECT_EQ(
      ok, json::parse(R"([{"last_insert_id":1,"rows_affected":1},{"last_insert_id":2,"rows_affected":1}])"));
}

TEST(HttpApiRoundTripTest, DeferredForeignKeyFailureAtCommitIsNamedAsTheTransactions) {
  Node node;
  node.post("/db/execute", R"json(["CREATE TABLE p (id INTEGER PRIMARY KEY)",
      "CREATE TABLE c (p INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)"])json");
  json results = node.results("/db/execute?transaction",
                              R"json(["INSERT INTO c VALUES (7)", "INSERT INTO c VALUES (8)"])json");
  ASSERT_EQ(results.size(), 2u) << results;
  EXPECT_EQ(results[0]["error"], "rolled back: the transaction failed at commit: FOREIGN KEY constraint failed");
  EXPECT_EQ(results[1]["code"], "constraint");
}

TEST(HttpApiRoundTripTest, SyntaxErrorsGetSqlitesMessageOnEveryEndpoint) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  const json selec = json::parse(R"({"error":"near \"SELEC\": syntax error","code":"sql_error"})");
  for (const char* target : {"/db/query", "/db/query?level=strong", "/db/execute", "/db/request",
                             "/db/execute?transaction", "/db/request?transaction"}) {
    EXPECT_EQ(node.results(target, R"json(["SELEC * FROM foo"])json")[0], selec) << target;
    // One bad statement among several in one string: not "holds 2 statements".
    EXPECT_EQ(node.results(target, R"json(["SELECT 1; SELEC 2"])json")[0], selec) << target;
    EXPECT_EQ(node.results(target, R"json(["SELECT * FROM foo WHERE name = 'fiona"])json")[0],
              json::parse(R"({"error":"unrecognized token: \"'fiona\"","code":"sql_error"})"))
        << target;
  }
  HttpResponse got = node.handle("GET", "/db/query?q=SELEC%20*%20FROM%20foo");
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(json::parse(got.body)["results"][0], selec);
  // Well-formed text keeps its own verdicts.
  EXPECT_EQ(node.results("/db/query", R"json(["INSERT INTO foo(name) VALUES('x')"])json")[0]["code"],
            "not_a_read");
  EXPECT_EQ(node.results("/db/execute", R"json(["SELECT 1; SELECT 2"])json")[0]["code"], "refused");
  // In a transaction, the statements before the bad one name it and why.
  json tx = node.results("/db/execute?transaction",
                         R"json(["INSERT INTO foo(name) VALUES('a')", "SELEC 1"])json");
  ASSERT_EQ(tx.size(), 2u) << tx;
  EXPECT_EQ(tx[0]["error"], "rolled back: statement 2 of 2 failed: near \"SELEC\": syntax error");
  EXPECT_EQ(tx[1], selec);
}

TEST(HttpApiRoundTripTest, UnifiedEndpointMixesReadsWritesAndErrors) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  for (const char* target :
       {"/db/request", "/db/request?level=strong", "/db/request?transaction&level=none"}) {
    Node fresh;
    fresh.post("/db/execute", kCreateFoo);
    json results = fresh.results(
        target,
        R"json([["INSERT INTO foo(name, age) VALUES(?, ?)", "fiona", 20], ["SELECT * FROM foo"]])json");
    EXPECT_EQ(results, json::parse(R"([{"last_insert_id":1,"rows_affected":1},
        {"columns":["id","name","age"],"types":["integer","text","integer"],"values":[[1,"fiona",20]]}])"))
        << target;
  }
  json results =
      node.results("/db/request", R"json(["CREATE TABLE bar2 (x)", ["SELECT * FROM bar"], "COMMIT"])json");
  ASSERT_EQ(results.size(), 3u);
  EXPECT_EQ(results[0], json::object());
  EXPECT_EQ(results[1], json::parse(R"({"error":"no such table: bar","code":"sql_error"})"));
  EXPECT_EQ(results[2]["code"], "refused");
}

TEST(HttpApiRoundTripTest, QueryEndpointRefusesWritesAtEveryLevel) {
  for (const char* target : {"/db/query", "/db/query?level=strong", "/db/query?level=none"}) {
    Node node;
    node.post("/db/execute", kCreateFoo);
    json results = node.results(
        target, R"json(["INSERT INTO foo(name) VALUES('x')", "SELECT count(*) AS n FROM foo"])json");
    EXPECT_EQ(
        results[0],
        json::parse(R"({"error":"attempt to change database via query operation","code":"not_a_read"})"))
        << target;
    EXPECT_EQ(results[1]["values"], json::parse("[[0]]")) << target;
  }
}

TEST(HttpApiRoundTripTest, StrongReadsGoThroughTheLog) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  HttpResponse response = node.post("/db/query?level=strong", R"(["SELECT count(*) AS n FROM foo"])");
  EXPECT_EQ(response.body,
            R"({"results":[{"columns":["n"],"types":["integer"],"values":[[0]]}],"raft_index":2})");
}

TEST(HttpApiRoundTripTest, ExactlyOnceRetriesReturnTheStoredResponse) {
  Node node;
  node.post("/db/execute", kCreateFoo);
  const std::string insert = R"json(["INSERT INTO foo(name) VALUES('once')"])json";
  HttpResponse first = node.post("/db/execute?client_id=9&seq=1", insert);
  EXPECT_EQ(first.body, R"({"results":[{"last_insert_id":1,"rows_affected":1}],"raft_index":2})");
  HttpResponse retry = node.post("/db/execute?client_id=9&seq=1", insert);
  EXPECT_EQ(retry.body,
            R"({"results":[{"last_insert_id":1,"rows_affected":1}],"raft_index":3,"duplicate":true})");
  EXPECT_EQ(node.results("/db/query", R"(["SELECT count(*) FROM foo"])")[0]["values"], json::parse("[[1]]"));
  node.post("/db/execute?client_id=9&seq=2", insert);
  HttpResponse stale = node.post("/db/execute?client_id=9&seq=1", insert);
  EXPECT_EQ(stale.status, 409);
  EXPECT_EQ(json::parse(stale.body)["code"], "stale_sequence");
}

TEST(HttpApiRoundTripTest, OnlyEmptyStatementsGiveEmptyResults) {
  Node node;
  EXPECT_EQ(node.post("/db/execute", R"([""])").body, R"({"results":[]})");
}

TEST(HttpApiRoundTripTest, RequestErrorsAreJsonWithStatusAndCode) {
  Node node;
  struct Case {
    const char* method;
    const char* target;
    const char* body;
    int status;
    const char* code;
  };
  for (const Case& c :
       {Case{"POST", "/nope", "[]", 404, "not_found"},
        Case{"GET", "/db/execute", "", 405, "method_not_allowed"},
        Case{"POST", "/db/execute", "[", 400, "malformed_json"},
        Case{"POST", "/db/execute", "\"SELECT 1\"", 400, "bad_request"},
        Case{"POST", "/db/execute", "[]", 400, "no_statements"},
        Case{"POST", "/db/query?level=bogus", "[\"SELECT 1\"]", 400, "bad_parameter"},
        Case{"POST", "/db/execute?client_id=1&seq=1", "[\"SELECT 1\",\"SELECT 2\"]", 400, "bad_parameter"}}) {
    HttpResponse response = node.handle(c.method, c.target, c.body);
    EXPECT_EQ(response.status, c.status) << c.target;
    EXPECT_EQ(response.content_type, "application/json; charset=utf-8");
    json body = json::parse(response.body);
    EXPECT_EQ(body["code"], c.code) << response.body;
    EXPECT_TRUE(body["error"].is_string() && !body["error"].get<std::string>().empty());
  }
  HttpResponse not_allowed = node.handle("GET", "/db/execute");
  ASSERT_EQ(not_allowed.headers.size(), 1u);
  EXPECT_EQ(not_allowed.headers[0], (std::pair<std::string, std::string>{"Allow", "POST"}));
  auto too_large =
      parse_api_request(HttpRequest{"POST", "/db/execute", std::string(100, ' ')}, HttpApiLimits{10});
  ASSERT_FALSE(too_large.ok());
  HttpResponse large = write_error(too_large.error(), true);
  EXPECT_EQ(large.status, 413);
  EXPECT_EQ(json::parse(large.body)["code"], "body_too_large");
  EXPECT_NE(large.body.find("\n    \"code\""), std::string::npos);  // pretty
}

// Node answers the server may get, fed to write_results directly.
ApiRequest planned(const std::string& target, const std::string& body) {
  auto parsed = parse_api_request(HttpRequest{"POST", target, body});
  EXPECT_TRUE(parsed.ok());
  return parsed.ok() ? *parsed : ApiRequest{};
}

TEST(HttpApiNodeErrorsTest, NotLeaderNoLeaderAndRedirect) {
  const ApiRequest request = planned("/db/execute?pretty", R"json(["INSERT INTO t VALUES (1)"])json");
  const std::vector<OperationOutcome> not_leader{{absl::FailedPreconditionError("not leader"), "", 0, 0}};
  HttpResponse no_leader =
      write_results(request, not_leader, ResponseContext{0, "/db/execute?pretty", std::nullopt});
  EXPECT_EQ(no_leader.status, 503);
  EXPECT_EQ(json::parse(no_leader.body)["code"], "no_leader");
  HttpResponse elsewhere =
      write_results(request, not_leader, ResponseContext{0, "/db/execute?pretty", "10.0.0.2:4001"});
  EXPECT_EQ(elsewhere.status, 503);
  EXPECT_EQ(json::parse(elsewhere.body)["code"], "not_leader");
  EXPECT_EQ(json::parse(elsewhere.body)["leader"], "http://10.0.0.2:4001");
  EXPECT_TRUE(elsewhere.headers.empty());

  const ApiRequest redirecting = planned("/db/execute?redirect", R"json(["INSERT INTO t VALUES (1)"])json");
  HttpResponse moved = write_results(
      redirecting, not_leader, ResponseContext{0, "/db/execute?redirect", "https://leader.example:4001/"});
  EXPECT_EQ(moved.status, 301);
  ASSERT_EQ(moved.headers.size(), 1u);
  EXPECT_EQ(moved.headers[0].first, "Location");
  EXPECT_EQ(moved.headers[0].second, "https://leader.example:4001/db/execute?redirect");
  HttpResponse nowhere =
      write_results(redirecting, not_leader, ResponseContext{0, "/db/execute?redirect", ""});
  EXPECT_EQ(nowhere.status, 503);
  EXPECT_EQ(json::parse(nowhere.body)["code"], "no_leader");
}

std::vector<std::string> payloads_of(const ApiRequest& request) {
  std::vector<std::string> payloads;
  for (const Operation& operation : request.operations) {
    payloads.push_back(needs_node(operation) ? operation_payload(operation) : "");
  }
  return payloads;
}

// `redirect` sends everything but level-none reads to the leader, as rqlite does.
TEST(HttpApiRequestTest, RedirectAppliesToAllButLevelNoneReads) {
  EXPECT_TRUE(
      redirected_to_leader(planned("/db/execute?redirect", R"json(["INSERT INTO t VALUES (1)"])json")));
  for (const char* level : {"weak", "linearizable", "strong"}) {
    EXPECT_TRUE(
        redirected_to_leader(planned(std::string("/db/query?level=") + level, R"json(["SELECT 1"])json")))
        << level;
  }
  EXPECT_FALSE(redirected_to_leader(planned("/db/query?level=none", R"json(["SELECT 1", "SELECT 2"])json")));
  EXPECT_TRUE(redirected_to_leader(
      planned("/db/request?level=none", R"json(["SELECT 1", "INSERT INTO t VALUES (1)"])json")));
  // Statements refused up front never reach a node.
  EXPECT_FALSE(redirected_to_leader(planned("/db/execute", R"json(["BEGIN"])json")));
}

// A request the log cannot hold is refused whole, before anything runs,
// with one error; the bound is the entry as the leader proposes it.
TEST(HttpApiRequestTest, OperationsThatWouldNotFitInALogEntryAreRefusedWithOneError) {
  const std::string insert =
      R"json(["INSERT INTO t VALUES (?)", "0123456789012345678901234567890123456789"])json";
  const std::string body = "[" + insert + "," + insert + "," + insert + "]";
  const ApiRequest transaction = planned("/db/execute?transaction", body);
  const std::vector<std::string> payloads = payloads_of(transaction);
  ASSERT_EQ(payloads.size(), 1u);
  const uint64_t fits = payloads[0].size() + kLeaderTimestampBytes;
  EXPECT_EQ(check_entry_sizes(transaction, payloads, fits), std::nullopt);
  const std::optional<ApiError> refused = check_entry_sizes(transaction, payloads, fits - 1);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->code, ApiErrorCode::kBodyTooLarge);
  EXPECT_EQ(http_status(refused->code), 413);
  EXPECT_EQ(
      refused->message,
      absl::StrCat(
          "the transaction (statements 0 to 2) encodes to ", payloads[0].size(),
          " bytes; a Raft log entry holds at most ", fits - 1,
          " (raft.max_entry_bytes, less 32 for the leader's timestamp): split it into smaller requests"));
  // Without `transaction` each statement is its own entry and fits.
  const ApiRequest separate = planned("/db/execute", body);
  EXPECT_EQ(check_entry_sizes(separate, payloads_of(separate), fits - 1), std::nullopt);
  const ApiRequest read = planned(
      "/db/query", R"json(["SELECT 1", ["SELECT ?", "0123456789012345678901234567890123456789"]])json");
  const std::vector<std::string> read_payloads = payloads_of(read);
  const std::optional<ApiError> long_read =
      check_entry_sizes(read, read_payloads, read_payloads[0].size() + kLeaderTimestampBytes);
  ASSERT_TRUE(long_read.has_value());
  EXPECT_THAT(long_read->message, ::testing::StartsWith("statement 1 encodes to "));
}

// kLeaderTimestampBytes bounds what the leader's re-encoding adds: measured
// with a real state machine's prepare_proposal, with and without a session.
TEST(HttpApiRequestTest, TheLeadersTimestampAddsLessThanItsAllowance) {
  auto sm = statemachine::SqlStateMachine::create();
  ASSERT_TRUE(sm.ok()) << sm.status();
  for (const char* target : {"/db/execute?transaction", "/db/execute?transaction&client_id=7&seq=1"}) {
    const ApiRequest request = planned(target, R"json(["INSERT INTO t VALUES (1)", ["SELECT ?", 1.5]])json");
    const std::string payload = payloads_of(request).at(0);
    auto prepared = (*sm)->prepare_proposal(payload, INT64_MAX);
    ASSERT_TRUE(prepared.ok()) << prepared.status();
    EXPECT_GT(prepared->size(), payload.size()) << target;
    EXPECT_LE(prepared->size(), payload.size() + kLeaderTimestampBytes) << target;
  }
}

TEST(HttpApiNodeErrorsTest, UnavailableTimeoutAndPerStatementFailures) {
  const ApiRequest request =
      planned("/db/execute", R"json(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"])json");
  HttpResponse unavailable = write_results(
      request, {{absl::UnavailableError("node stopped"), "", 0, 0}, {absl::UnavailableError("x"), "", 0, 0}},
      {});
  EXPECT_EQ(unavailable.status, 503);
  EXPECT_EQ(json::parse(unavailable.body)["code"], "unavailable");
  HttpResponse overloaded = write_results(
      request, {{absl::ResourceExhaustedError("queue full"), "", 0, 0}, {absl::OkStatus(), "", 0, 0}}, {});
  // The second outcome claims success with an empty (undecodable) answer: per-statement entries.
  EXPECT_EQ(overloaded.status, 200);
  json results = json::parse(overloaded.body)["results"];
  EXPECT_EQ(results[0]["code"], "unavailable");
  EXPECT_EQ(results[1]["code"], "internal");
  HttpResponse timeout = write_results(request,
                                       {{absl::DeadlineExceededError("deadline"), "", 0, 0},
                                        {absl::DeadlineExceededError("deadline"), "", 0, 0}},
                                       {});
  EXPECT_EQ(timeout.status, 504);
  EXPECT_EQ(json::parse(timeout.body)["code"], "timeout");
  HttpResponse refused = write_results(request,
                                       {{absl::InvalidArgumentError("refused by the classifier"), "", 0, 0},
                                        {absl::InvalidArgumentError("again"), "", 0, 0}},
                                       {});
  EXPECT_EQ(refused.status, 200);
  EXPECT_EQ(json::parse(refused.body)["results"][0]["code"], "refused");
}

// A read refused by its `freshness` bound is its own 503, not "not leader"
// (both are FAILED_PRECONDITION from the node), and never a redirect.
TEST(HttpApiNodeErrorsTest, StaleReadIsA503WithItsOwnCode) {
  const ApiRequest request = planned("/db/query?level=none&freshness=1s&redirect", R"json(["SELECT 1"])json");
  const std::vector<OperationOutcome> stale{{raft::stale_read_error("last contact 3000 ms ago"), "", 0, 0}};
  HttpResponse response =
      write_results(request, stale, ResponseContext{0, "/db/query?level=none", "http://10.0.0.2:4001"});
  EXPECT_EQ(response.status, 503);
  EXPECT_TRUE(response.headers.empty());
  EXPECT_EQ(json::parse(response.body)["code"], "stale_read");
  EXPECT_EQ(json::parse(response.body)["error"], "stale read: last contact 3000 ms ago");
  EXPECT_EQ(http_status(ApiErrorCode::kStaleRead), 503);
}

TEST(HttpApiErrorsTest, StatusAndNameOfEveryCode) {
  EXPECT_EQ(http_status(ApiErrorCode::kMalformedJson), 400);
  EXPECT_EQ(http_status(ApiErrorCode::kNotFound), 404);
  EXPECT_EQ(http_status(ApiErrorCode::kMethodNotAllowed), 405);
  EXPECT_EQ(http_status(ApiErrorCode::kStaleSequence), 409);
  EXPECT_EQ(http_status(ApiErrorCode::kBodyTooLarge), 413);
  EXPECT_EQ(http_status(ApiErrorCode::kInternal), 500);
  EXPECT_EQ(http_status(ApiErrorCode::kNoLeader), 503);
  EXPECT_EQ(http_status(ApiErrorCode::kTimeout), 504);
  EXPECT_EQ(error_code_name(ApiErrorCode::kInvalidParameter), "invalid_parameter");
  EXPECT_EQ(api_error_code(statemachine::ErrorCode::kConstraint), ApiErrorCode::kConstraint);
  EXPECT_EQ(api_error_code(statemachine::ErrorCode::kResourceLimit), ApiErrorCode::kResourceLimit);
}

}  // namespace
}  // namespace reef::prod::http
