// HTTP API requests from arbitrary bytes: byte 0 picks the method and
// endpoint, the bytes up to the first '\n' are the query string, the rest is
// the body. Parsing must never crash; anything accepted must plan into
// operations that cover its statements in order, whose payloads decode back
// to exactly the planned batch or query; and running the plan through a real
// state machine and writing the response must give valid JSON.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"
#include "prod/api/http_request_parser.h"
#include "prod/api/http_response_writer.h"
#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"
#include "statemachine/sql_state_machine.h"

namespace {

using reef::prod::http::ApiRequest;
using reef::prod::http::Operation;
using reef::prod::http::OperationKind;
using reef::prod::http::OperationOutcome;

void check(bool condition) {
  if (!condition) std::abort();
}

void check_payload(const Operation& op) {
  const std::string payload = reef::prod::http::operation_payload(op);
  if (op.kind == OperationKind::kRead) {
    auto query = reef::statemachine::decode_query_request(payload);
    check(query.ok() && *query == op.query);
    return;
  }
  check(!op.batch.statements.empty() && op.batch.statements.size() == op.statement_count);
  auto batch = reef::statemachine::decode_command_batch(payload);
  check(batch.ok() && *batch == op.batch);
}

void check_plan(const ApiRequest& request) {
  size_t next = 0;
  for (const Operation& op : request.operations) {
    check(op.first_statement == next && op.statement_count > 0);
    next += op.statement_count;
    if (op.kind == OperationKind::kRefused) {
      check(op.refused_offset < op.statement_count && !op.refusal.message.empty());
    } else {
      check_payload(op);
    }
  }
  check(next == request.statement_count);
}

OperationOutcome run(reef::statemachine::SqlStateMachine& sm, const Operation& op) {
  OperationOutcome outcome;
  if (!reef::prod::http::needs_node(op)) return outcome;
  const std::string payload = reef::prod::http::operation_payload(op);
  if (op.kind == OperationKind::kRead) {
    auto answer = sm.query(payload);
    check(answer.ok());
    outcome.response = *answer;
    return outcome;
  }
  auto prepared = sm.prepare_proposal(payload, 1'700'000'000'000);
  if (!prepared.ok()) {
    outcome.status = prepared.status();
    return outcome;
  }
  const reef::raft::Index index = sm.applied().index.next();
  auto answer =
      sm.apply(reef::raft::LogEntry{reef::raft::Term(1), index, reef::raft::EntryType::kNormal, *prepared});
  check(answer.ok());
  outcome.response = *answer;
  outcome.raft_index = index.value();
  return outcome;
}

reef::statemachine::SqlStateMachineOptions small_options() {
  reef::statemachine::SqlStateMachineOptions o;
  o.apply_step_budget = 10'000;
  o.query_step_budget = 10'000;
  o.database.max_database_bytes = 64 << 20;
  o.database.max_value_bytes = 1 << 20;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const char* const kMethods[] = {"POST", "GET", "PUT"};
  static const char* const kPaths[] = {"/db/execute", "/db/query", "/db/request", "/db/other"};
  const std::string input(reinterpret_cast<const char*>(data) + 1, size - 1);
  const size_t newline = input.find('\n');
  const std::string query = newline == std::string::npos ? "" : input.substr(0, newline);
  const std::string body = newline == std::string::npos ? input : input.substr(newline + 1);
  const std::string target = std::string(kPaths[data[0] % 4]) + "?" + query;
  reef::prod::http::HttpRequest request{kMethods[(data[0] / 4) % 3], target, body};

  auto parsed = reef::prod::http::parse_api_request(request, reef::prod::http::HttpApiLimits{4096});
  if (!parsed.ok()) {
    check(!parsed.error().message.empty());
    auto response = reef::prod::http::write_error(parsed.error(), (data[0] & 0x80) != 0);
    check(response.status >= 400 && nlohmann::json::accept(response.body));
    return 0;
  }
  check_plan(*parsed);
  auto sm = reef::statemachine::SqlStateMachine::create(small_options());
  check(sm.ok());
  std::vector<OperationOutcome> outcomes;
  for (const Operation& op : parsed->operations) outcomes.push_back(run(**sm, op));
  auto response = reef::prod::http::write_results(*parsed, outcomes, {0.1, target, "leader:4001"});
  check(nlohmann::json::accept(response.body));
  return 0;
}
