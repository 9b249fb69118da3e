// rqlite request forms -> planned operations (prod/api/http_request_parser.h,
// prod/api/http_statement_parser.h, prod/api/http_request_planner.h,
// prod/api/http_named_params.h): every body form, routing, methods, limits and
// every request error.
#include "prod/api/http_request_parser.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "prod/api/http_named_params.h"
#include "prod/api/http_statement_parser.h"
#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"

namespace reef::prod::http {
namespace {

using statemachine::Param;
using statemachine::Statement;
using statemachine::Value;

Value text(const char* s) { return Value(std::string(s)); }

ApiResult<ApiRequest> post(const std::string& target, const std::string& body, HttpApiLimits limits = {}) {
  return parse_api_request(HttpRequest{"POST", target, body}, limits);
}

ApiErrorCode error_of(const ApiResult<ApiRequest>& result) {
  EXPECT_FALSE(result.ok());
  return result.ok() ? ApiErrorCode::kInternal : result.error().code;
}

std::vector<Statement> statements(const std::string& body) {
  auto parsed = parse_statements_json(body);
  EXPECT_TRUE(parsed.ok()) << (parsed.ok() ? "" : parsed.error().message);
  return parsed.ok() ? *parsed : std::vector<Statement>{};
}

TEST(StatementParserTest, PlainStrings) {
  EXPECT_EQ(
      statements(R"json(["CREATE TABLE foo (id INTEGER)", "INSERT INTO foo VALUES (1)"])json"),
      (std::vector<Statement>{{"CREATE TABLE foo (id INTEGER)", {}}, {"INSERT INTO foo VALUES (1)", {}}}));
}

TEST(StatementParserTest, PositionalParametersOfEveryType) {
  auto parsed = statements(
      R"json([["INSERT INTO t VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "fiona", 20, 1.5, true, null, 1.0, 1e3, 18446744073709551615]])json");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].params, (std::vector<Param>{{"", text("fiona")},
                                                  {"", int64_t{20}},
                                                  {"", 1.5},
                                                  {"", true},
                                                  {"", std::monostate{}},
                                                  {"", 1.0},
                                                  {"", 1000.0},
                                                  {"", 18446744073709551615.0}}));
}

TEST(StatementParserTest, NamedParametersTakeThePrefixTheSqlUses) {
  auto parsed = statements(
      R"json([["INSERT INTO foo(name, age, note) VALUES(:name, @age, $note)", {"name": "fiona", "age": 20, "note": null}]])json");
  ASSERT_EQ(parsed.size(), 1u);
  // JSON object keys come back sorted.
  EXPECT_EQ(
      parsed[0].params,
      (std::vector<Param>{{"@age", int64_t{20}}, {":name", text("fiona")}, {"$note", std::monostate{}}}));
}

TEST(StatementParserTest, PrefixedKeysMixedPositionalAndUnknownNames) {
  auto parsed = statements(R"([["SELECT ?, :a, :b", 1, {":a": 2, "missing": 3}]])");
  ASSERT_EQ(parsed.size(), 1u);
  EXPECT_EQ(parsed[0].params,
            (std::vector<Param>{{"", int64_t{1}}, {":a", int64_t{2}}, {":missing", int64_t{3}}}));
}

TEST(StatementParserTest, SqlOnlyArrayAndMixedFormsAndEmptySqlDropped) {
  EXPECT_EQ(statements(R"([["SELECT 1"], "SELECT 2", ""])"),
            (std::vector<Statement>{{"SELECT 1", {}}, {"SELECT 2", {}}}));
  EXPECT_TRUE(statements(R"([""])").empty());
}

TEST(StatementParserTest, EveryWrongShapeHasItsCode) {
  struct Case {
    const char* body;
    ApiErrorCode code;
  };
  for (const Case& c :
       {Case{"", ApiErrorCode::kMalformedJson}, Case{"[", ApiErrorCode::kMalformedJson},
        Case{"[\"a\",]", ApiErrorCode::kMalformedJson}, Case{"[\"\xff\"]", ApiErrorCode::kMalformedJson},
        Case{"[1e999]", ApiErrorCode::kMalformedJson}, Case{"\"SELECT 1\"", ApiErrorCode::kBadRequest},
        Case{"{\"q\": \"SELECT 1\"}", ApiErrorCode::kBadRequest}, Case{"[]", ApiErrorCode::kNoStatements},
        Case{"[[]]", ApiErrorCode::kNoStatements}, Case{"[1]", ApiErrorCode::kBadRequest},
        Case{"[null]", ApiErrorCode::kBadRequest}, Case{"[[1, 2]]", ApiErrorCode::kBadRequest},
        Case{"[[\"SELECT ?\", [1]]]", ApiErrorCode::kBadRequest},
        Case{"[[\"SELECT :a\", {\"a\": {\"b\": 1}}]]", ApiErrorCode::kBadRequest},
        Case{"[[\"SELECT :a\", {\"a\": [1]}]]", ApiErrorCode::kBadRequest}}) {
    auto parsed = parse_statements_json(c.body);
    ASSERT_FALSE(parsed.ok()) << c.body;
    EXPECT_EQ(parsed.error().code, c.code) << c.body << ": " << parsed.error().message;
    EXPECT_FALSE(parsed.error().message.empty());
  }
}

TEST(StatementParserTest, DeepNestingIsRefusedBeforeParsing) {
  const std::string deep = std::string(100'000, '[') + std::string(100'000, ']');
  auto parsed = parse_statements_json(deep);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ApiErrorCode::kBadRequest);
  // Brackets inside strings do not count.
  EXPECT_TRUE(parse_statements_json(R"(["SELECT '[[[[[[[[[[[[[[[[[[[[[[[[\"'"])").ok());
}

TEST(StatementParserTest, TooManyStatements) {
  std::string body = "[";
  for (size_t i = 0; i <= statemachine::kMaxStatements; ++i)
    body += i == 0 ? "\"SELECT 1\"" : ",\"SELECT 1\"";
  body += "]";
  auto parsed = parse_statements_json(body);
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ApiErrorCode::kBadRequest);
}

TEST(NamedParamsTest, SkipsStringsIdentifiersAndComments) {
  EXPECT_EQ(named_parameters_in("SELECT ':a', \":b\", `:c`, [:d], :e -- :f\n /* :g */ , @h, $i, :e, a$b"),
            (std::vector<std::string>{":e", "@h", "$i"}));
  EXPECT_EQ(sql_names_for_key("x", {":x", "@x", ":y"}), (std::vector<std::string>{":x", "@x"}));
  EXPECT_EQ(sql_names_for_key("@x", {":x"}), (std::vector<std::string>{"@x"}));
  EXPECT_EQ(sql_names_for_key("z", {":x"}), (std::vector<std::string>{":z"}));
}

TEST(RequestParserTest, RoutesMethodsAndUnknownPaths) {
  EXPECT_EQ(error_of(post("/db/nothing", "[]")), ApiErrorCode::kNotFound);
  EXPECT_EQ(error_of(post("/", "[]")), ApiErrorCode::kNotFound);
  EXPECT_EQ(error_of(post("/db/executeX", "[\"SELECT 1\"]")), ApiErrorCode::kNotFound);
  EXPECT_TRUE(post("/db/execute/", "[\"SELECT 1\"]").ok());
  for (const char* method : {"GET", "PUT", "DELETE", "post"}) {
    auto parsed = parse_api_request(HttpRequest{method, "/db/execute", "[\"SELECT 1\"]"});
    EXPECT_EQ(error_of(parsed), ApiErrorCode::kMethodNotAllowed) << method;
    EXPECT_EQ(parsed.error().allow, "POST");
  }
  auto get_request = parse_api_request(HttpRequest{"GET", "/db/request", "[\"SELECT 1\"]"});
  EXPECT_EQ(error_of(get_request), ApiErrorCode::kMethodNotAllowed);
  auto put_query = parse_api_request(HttpRequest{"PUT", "/db/query?q=SELECT%201", ""});
  EXPECT_EQ(error_of(put_query), ApiErrorCode::kMethodNotAllowed);
  EXPECT_EQ(put_query.error().allow, "GET, POST");
}

TEST(RequestParserTest, BodyLimitIsCheckedBeforeParsing) {
  HttpApiLimits limits;
  limits.max_body_bytes = 10;
  EXPECT_EQ(error_of(post("/db/execute", "[\"SELECT 1\" ]", limits)), ApiErrorCode::kBodyTooLarge);
  EXPECT_EQ(error_of(post("/db/execute", "not json at all", limits)), ApiErrorCode::kBodyTooLarge);
  EXPECT_TRUE(post("/db/execute", "[\"VALUES(1)\"]", HttpApiLimits{13}).ok());
  EXPECT_TRUE(check_body_size(10, limits) == std::nullopt);
  ASSERT_TRUE(check_body_size(11, limits).has_value());
  EXPECT_EQ(check_body_size(11, limits)->code, ApiErrorCode::kBodyTooLarge);
}

TEST(RequestParserTest, BadParametersAndBodies) {
  EXPECT_EQ(error_of(post("/db/execute?level=quick", "[\"SELECT 1\"]")), ApiErrorCode::kBadParameter);
  EXPECT_EQ(error_of(post("/db/execute", "{]")), ApiErrorCode::kMalformedJson);
  EXPECT_EQ(error_of(post("/db/execute", "[]")), ApiErrorCode::kNoStatements);
  EXPECT_EQ(error_of(parse_api_request(HttpRequest{"GET", "/db/query", ""})), ApiErrorCode::kNoStatements);
  EXPECT_EQ(error_of(parse_api_request(HttpRequest{"GET", "/db/query?q=", ""})), ApiErrorCode::kBadParameter);
}

TEST(RequestPlanTest, ExecuteWithoutTransactionIsOneBatchPerStatement) {
  auto parsed = post("/db/execute",
                     R"json(["CREATE TABLE t (a)", ["INSERT INTO t VALUES (?)", 1], "SELECT * FROM t"])json");
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->endpoint, Endpoint::kExecute);
  EXPECT_EQ(parsed->statement_count, 3u);
  ASSERT_EQ(parsed->operations.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    const Operation& op = parsed->operations[i];
    EXPECT_EQ(op.kind, OperationKind::kWrite);
    EXPECT_EQ(op.first_statement, i);
    EXPECT_EQ(op.statement_count, 1u);
    EXPECT_EQ(request_kind(*parsed, op), raft::RequestKind::kWrite);
    auto decoded = statemachine::decode_command_batch(operation_payload(op));
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(*decoded, op.batch);
  }
  EXPECT_EQ(parsed->operations[1].batch.statements[0].params, (std::vector<Param>{{"", int64_t{1}}}));
}

TEST(RequestPlanTest, TransactionIsOneAtomicBatch) {
  auto parsed =
      post("/db/execute?transaction", R"json(["INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"])json");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->operations.size(), 1u);
  EXPECT_EQ(parsed->operations[0].kind, OperationKind::kWrite);
  EXPECT_EQ(parsed->operations[0].statement_count, 2u);
  EXPECT_EQ(parsed->operations[0].batch.statements.size(), 2u);
}

TEST(RequestPlanTest, QueryLevelsPickTheReadPath) {
  auto weak = parse_api_request(HttpRequest{"GET", "/db/query?q=SELECT%201", ""});
  ASSERT_TRUE(weak.ok());
  ASSERT_EQ(weak->operations.size(), 1u);
  EXPECT_EQ(weak->operations[0].kind, OperationKind::kRead);
  EXPECT_EQ(request_kind(*weak, weak->operations[0]), raft::RequestKind::kReadWeak);
  auto query = statemachine::decode_query_request(operation_payload(weak->operations[0]));
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->sql, "SELECT 1");

  auto none = post("/db/query?level=none&freshness=1s&min_index=5", R"(["SELECT 1", "SELECT 2"])");
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->operations.size(), 2u);
  EXPECT_EQ(request_kind(*none, none->operations[1]), raft::RequestKind::kReadNone);
  EXPECT_EQ(none->options.min_index, 5u);

  auto strong = post("/db/query?level=strong", R"(["SELECT 1", "SELECT 2"])");
  ASSERT_TRUE(strong.ok());
  ASSERT_EQ(strong->operations.size(), 2u);
  EXPECT_EQ(strong->operations[0].kind, OperationKind::kStrongRead);
  EXPECT_EQ(request_kind(*strong, strong->operations[0]), raft::RequestKind::kReadStrong);

  auto strong_tx = post("/db/query?level=strong&transaction", R"(["SELECT 1", "SELECT 2"])");
  ASSERT_TRUE(strong_tx.ok());
  ASSERT_EQ(strong_tx->operations.size(), 1u);
  EXPECT_EQ(strong_tx->operations[0].kind, OperationKind::kStrongRead);

  // Off-log reads are separate queries even with `transaction`.
  auto weak_tx = post("/db/query?transaction", R"(["SELECT 1", "SELECT 2"])");
  ASSERT_TRUE(weak_tx.ok());
  EXPECT_EQ(weak_tx->operations.size(), 2u);
}

TEST(RequestPlanTest, QueryRefusesWritesAndRequestClassifies) {
  auto query = post("/db/query?level=strong", R"(["SELECT 1", "DELETE FROM t"])");
  ASSERT_TRUE(query.ok());
  EXPECT_EQ(query->operations[1].kind, OperationKind::kRefused);
  EXPECT_EQ(query->operations[1].refusal.code, ApiErrorCode::kNotARead);
  EXPECT_FALSE(needs_node(query->operations[1]));

  auto unified = post("/db/request?level=linearizable",
                      R"json(["INSERT INTO t VALUES (1)", "SELECT * FROM t", "BEGIN"])json");
  ASSERT_TRUE(unified.ok());
  ASSERT_EQ(unified->operations.size(), 3u);
  EXPECT_EQ(unified->operations[0].kind, OperationKind::kWrite);
  EXPECT_EQ(unified->operations[1].kind, OperationKind::kRead);
  EXPECT_EQ(request_kind(*unified, unified->operations[1]), raft::RequestKind::kReadLinearizable);
  EXPECT_EQ(unified->operations[2].kind, OperationKind::kRefused);
  EXPECT_EQ(unified->operations[2].refusal.code, ApiErrorCode::kRefused);
}

TEST(RequestPlanTest, RefusalsInsideATransactionFailTheWholeTransaction) {
  auto parsed = post("/db/request?transaction",
                     R"json(["INSERT INTO t VALUES (1)", "ATTACH 'x' AS y", "SELECT 1"])json");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->operations.size(), 1u);
  EXPECT_EQ(parsed->operations[0].kind, OperationKind::kRefused);
  EXPECT_EQ(parsed->operations[0].refused_offset, 1u);
  EXPECT_EQ(parsed->operations[0].statement_count, 3u);
}

TEST(RequestPlanTest, MultipleStatementsInOneStringAndUnlexableSqlAreRefused) {
  auto parsed = post("/db/execute",
                     R"json(["INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)", "SELECT 'open"])json");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->operations[0].kind, OperationKind::kRefused);
  EXPECT_EQ(parsed->operations[0].refusal.code, ApiErrorCode::kRefused);
  EXPECT_EQ(parsed->operations[1].kind, OperationKind::kRefused);
  EXPECT_EQ(parsed->operations[1].refusal.code, ApiErrorCode::kSqlError);
}

TEST(RequestPlanTest, TextTheClassifierCannotReadGetsSqlitesSyntaxError) {
  auto parsed = post("/db/query", R"json(["SELEC * FROM t", "SELECT 1; SELEC 2", "SELECT 'open",
                                         "SELECT * FROM nowhere; INSERT INTO t VALUES (1)"])json");
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->operations.size(), 4u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(parsed->operations[i].kind, OperationKind::kRefused) << i;
    EXPECT_EQ(parsed->operations[i].refusal.code, ApiErrorCode::kSqlError) << i;
  }
  EXPECT_EQ(parsed->operations[0].refusal.message, "near \"SELEC\": syntax error");
  EXPECT_EQ(parsed->operations[1].refusal.message, "near \"SELEC\": syntax error");
  EXPECT_EQ(parsed->operations[2].refusal.message, "unrecognized token: \"'open\"");
  // Errors that need the schema are not the parser's: the planner's verdict stands.
  EXPECT_EQ(parsed->operations[3].refusal.code, ApiErrorCode::kRefused);
}

TEST(RequestPlanTest, SessionGoesOnTheOneBatchOrIsRefused) {
  auto one = post("/db/execute?client_id=7&seq=3", R"json(["INSERT INTO t VALUES (1)"])json");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->operations[0].batch.id, (statemachine::CommandId{7, 3}));
  auto tx = post("/db/execute?client_id=7&seq=4&transaction",
                 R"json(["INSERT INTO t VALUES (1)", "SELECT 1"])json");
  ASSERT_TRUE(tx.ok());
  EXPECT_EQ(tx->operations[0].batch.id, (statemachine::CommandId{7, 4}));
  EXPECT_EQ(error_of(post("/db/execute?client_id=7&seq=5", R"(["SELECT 1", "SELECT 2"])")),
            ApiErrorCode::kBadParameter);
  // Reads off the log carry no session, so a read-only request may have several.
  EXPECT_TRUE(post("/db/query?client_id=7&seq=6", R"(["SELECT 1", "SELECT 2"])").ok());
}

TEST(RequestPlanTest, OnlyEmptySqlMeansNoOperations) {
  auto parsed = post("/db/execute", R"([""])");
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->statement_count, 0u);
  EXPECT_TRUE(parsed->operations.empty());
}

TEST(RequestPlanTest, EndpointPaths) {
  EXPECT_EQ(endpoint_for_path("/db/execute"), Endpoint::kExecute);
  EXPECT_EQ(endpoint_for_path("/db/query/"), Endpoint::kQuery);
  EXPECT_EQ(endpoint_for_path("/db/request"), Endpoint::kRequest);
  EXPECT_EQ(endpoint_for_path("/db"), std::nullopt);
}

}  // namespace
}  // namespace reef::prod::http
