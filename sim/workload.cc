#include "sim/workload.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"
#include "statemachine/query_codec.h"

namespace reef::sim {
namespace {

using statemachine::BatchResponse;
using statemachine::CommandBatch;
using statemachine::CommandId;
using statemachine::Param;
using statemachine::Statement;

constexpr char kUpsert[] = "INSERT INTO registers(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v";
constexpr char kCas[] = "UPDATE registers SET v = ?1 WHERE k = ?2 AND v = ?3";
constexpr char kSelect[] = "SELECT v FROM registers WHERE k = ?1";
constexpr char kSqlInsert[] =
    "INSERT INTO events(client, n, at, r) VALUES (?1, ?2, CURRENT_TIMESTAMP, random() % 1000)";
constexpr char kSqlAggregate[] = "SELECT count(*), max(n), min(at) FROM events WHERE client = ?1";
// Extra simulated time a client waits beyond the node-side deadline before it
// gives up on an attempt (the node may have died and will never answer).
constexpr uint64_t kClientMarginUs = 200'000;

Statement statement(const char* sql, std::vector<std::string> params) {
  Statement s{sql, {}};
  for (std::string& p : params) s.params.push_back(Param{"", statemachine::Value(std::move(p))});
  return s;
}

std::string command(uint64_t client, uint64_t sequence, Statement s) {
  CommandBatch batch{CommandId{client, sequence}, 0, {}};
  batch.statements.push_back(std::move(s));
  return statemachine::encode_command_batch(batch);
}

// Statuses that say this attempt was certainly not applied.
bool definitely_not_applied(const absl::Status& status) {
  return raft::is_not_leader(status) || absl::IsResourceExhausted(status) || absl::IsAborted(status);
}

// The single text cell of a one-column result, or nullopt for no row.
std::optional<std::optional<std::string>> register_value(const std::vector<statemachine::Row>& rows) {
  if (rows.empty()) return std::optional<std::string>();
  if (rows.size() != 1 || rows[0].size() != 1) return std::nullopt;
  if (const auto* text = std::get_if<std::string>(&rows[0][0])) return std::optional<std::string>(*text);
  if (std::holds_alternative<std::monostate>(rows[0][0])) return std::optional<std::string>();
  return std::nullopt;
}

}  // namespace

Workload::Workload(SimCluster& cluster, WorkloadOptions options, uint64_t seed, History& history)
    : cluster_(cluster), options_(options), rng_(seed), history_(history) {
  REEF_ASSERT(options_.clients > 0 && options_.keys > 0 && options_.max_attempts > 0, "empty workload");
  for (size_t i = 0; i < options_.clients; ++i) clients_.push_back(Client{i + 1, 1, raft::Index(0)});
}

std::string Workload::register_query(const std::string& key) {
  return statemachine::encode_query_request(statement(kSelect, {key}));
}

std::optional<std::optional<std::string>> Workload::decode_register_read(const std::string& query_response) {
  absl::StatusOr<statemachine::QueryResponse> decoded = statemachine::decode_query_response(query_response);
  if (!decoded.ok() || !decoded->ok()) return std::nullopt;
  return register_value(decoded->rows);
}

void Workload::start() { run_setup(); }

void Workload::run_setup() {
  CommandBatch batch{CommandId{}, 0, {}};
  batch.statements.push_back(Statement{"CREATE TABLE IF NOT EXISTS registers(k TEXT PRIMARY KEY, v TEXT)", {}});
  batch.statements.push_back(Statement{
      "CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, client INTEGER, n INTEGER, at TEXT, r INTEGER)",
      {}});
  const raft::NodeId target = pick_node();
  SimNode& node = cluster_.node(target);
  const uint64_t token = next_token_++;
  auto live = std::make_shared<bool>(true);
  auto retry = [this, live] {
    if (!*live) return;
    *live = false;
    cluster_.scheduler().schedule_after(options_.retry_backoff_ms * 1000, "workload setup retry",
                                        [this] { run_setup(); });
  };
  raft::ClientRequest request{raft::RequestKind::kWrite, statemachine::encode_command_batch(batch), raft::Index(0),
                              node.clock().now_ms() + options_.attempt_timeout_ms};
  cluster_.scheduler().schedule_after(options_.attempt_timeout_ms * 1000 + kClientMarginUs,
                                      absl::StrCat("workload setup timeout ", token), retry);
  node.submit(std::move(request), [this, live, retry](raft::ClientResponse r) mutable {
    if (!*live) return;
    absl::StatusOr<BatchResponse> response =
        r.status.ok() ? statemachine::decode_batch_response(r.response) : absl::StatusOr<BatchResponse>(r.status);
    if (!response.ok() || !response->ok()) {
      retry();
      return;
    }
    *live = false;
    setup_done_ = true;
    for (Client& client : clients_) {
      client.last_seen_applied = r.applied;
      schedule_next_op(client);
    }
  });
}

uint64_t Workload::think_time_us() {
  // Each client issues ops_per_second / clients on average.
  const uint64_t mean_us = 1'000'000 * options_.clients / std::max<uint64_t>(1, options_.ops_per_second);
  return rng_.between(mean_us / 2, mean_us + mean_us / 2);
}

void Workload::schedule_next_op(Client& client) {
  if (!issuing_) return;
  const uint64_t id = client.id;
  cluster_.scheduler().schedule_after(think_time_us(), absl::StrCat("client ", id, " next"), [this, id] {
    if (issuing_) start_op(clients_[id - 1]);
  });
}

Workload::Op Workload::make_op(Client& client) {
  const WorkloadMix& m = options_.mix;
  const uint32_t weights[] = {m.write, m.cas, m.read_linearizable, m.read_strong, m.read_weak, m.read_none, m.sql};
  uint64_t total = 0;
  for (uint32_t w : weights) total += w;
  uint64_t pick = rng_.below(std::max<uint64_t>(1, total));
  size_t choice = 0;
  while (choice + 1 < std::size(weights) && pick >= weights[choice]) pick -= weights[choice++];
  Op op;
  op.client = client.id;
  op.key = absl::StrCat("k", rng_.below(options_.keys));
  switch (choice) {
    case 0: op.kind = Kind::kWrite; break;
    case 1: op.kind = Kind::kCas; break;
    case 2: op.kind = Kind::kReadLinearizable; break;
    case 3: op.kind = Kind::kReadStrong; break;
    case 4: op.kind = Kind::kReadWeak; break;
    case 5: op.kind = Kind::kReadNone; break;
    default: op.kind = rng_.chance(1, 2) ? Kind::kSqlWrite : Kind::kSqlRead; break;
  }
  if (op.kind == Kind::kWrite || op.kind == Kind::kCas || op.kind == Kind::kSqlWrite) {
    op.sequence = client.next_sequence++;
  }
  op.value = absl::StrCat("v", next_value_++);
  if (op.kind == Kind::kCas) {
    // One of the last few values written: often the current one, so some CAS succeed.
    const uint64_t newest = next_value_ - 1;
    op.expected = absl::StrCat("v", rng_.between(newest > 8 ? newest - 8 : 1, newest));
  }
  return op;
}

void Workload::start_op(Client& client) {
  if (history_.full()) return;
  Op op = make_op(client);
  const uint64_t now = cluster_.scheduler().now_us();
  switch (op.kind) {
    case Kind::kWrite: op.history_id = history_.invoke(op.client, op.key, OpKind::kWrite, op.value, "", now); break;
    case Kind::kCas:
      op.history_id = history_.invoke(op.client, op.key, OpKind::kCas, op.value, op.expected, now);
      break;
    case Kind::kReadLinearizable:
    case Kind::kReadStrong: op.history_id = history_.invoke(op.client, op.key, OpKind::kRead, "", "", now); break;
    default: break;
  }
  ++stats_.invoked;
  ++in_flight_;
  attempt(std::move(op));
}

raft::NodeId Workload::pick_node() { return cluster_.ids()[rng_.below(cluster_.ids().size())]; }

raft::ClientRequest Workload::request_for(const Op& op, raft::NodeId target) const {
  raft::ClientRequest request;
  request.deadline_ms = cluster_.node(target).clock().now_ms() + options_.attempt_timeout_ms;
  request.min_applied = clients_[op.client - 1].last_seen_applied;
  switch (op.kind) {
    case Kind::kWrite:
      request.payload = command(op.client, op.sequence, statement(kUpsert, {op.key, op.value}));
      break;
    case Kind::kCas:
      request.payload = command(op.client, op.sequence, statement(kCas, {op.value, op.key, op.expected}));
      break;
    case Kind::kSqlWrite: {
      Statement s{kSqlInsert, {Param{"", statemachine::Value(static_cast<int64_t>(op.client))},
                               Param{"", statemachine::Value(static_cast<int64_t>(op.sequence))}}};
      request.payload = command(op.client, op.sequence, std::move(s));
      break;
    }
    case Kind::kReadStrong:
      request.kind = raft::RequestKind::kReadStrong;
      request.payload = command(0, 0, statement(kSelect, {op.key}));
      break;
    case Kind::kReadLinearizable:
    case Kind::kReadWeak:
    case Kind::kReadNone:
      request.kind = op.kind == Kind::kReadLinearizable ? raft::RequestKind::kReadLinearizable
                     : op.kind == Kind::kReadWeak       ? raft::RequestKind::kReadWeak
                                                        : raft::RequestKind::kReadNone;
      request.payload = register_query(op.key);
      break;
    case Kind::kSqlRead:
      request.kind = raft::RequestKind::kReadLinearizable;
      request.payload = statemachine::encode_query_request(
          Statement{kSqlAggregate, {Param{"", statemachine::Value(static_cast<int64_t>(op.client))}}});
      break;
  }
  return request;
}

void Workload::attempt(Op op) {
  ++op.attempts;
  ++stats_.attempts;
  op.attempt_token = next_token_++;
  const raft::NodeId target = pick_node();
  raft::ClientRequest request = request_for(op, target);
  // Whichever comes first, the answer or the client's patience, settles the attempt.
  auto live = std::make_shared<bool>(true);
  // Only commands through the log can have taken effect behind our back.
  const bool is_command = op.sequence != 0;
  cluster_.scheduler().schedule_after(
      options_.attempt_timeout_ms * 1000 + kClientMarginUs, absl::StrCat("client ", op.client, " timeout"),
      [this, live, op, is_command]() mutable {
        if (!*live) return;
        *live = false;
        on_attempt_failed(std::move(op), is_command);
      });
  cluster_.node(target).submit(std::move(request), [this, live, op](raft::ClientResponse r) mutable {
    if (!*live) return;
    *live = false;
    on_response(std::move(op), std::move(r));
  });
}

void Workload::on_response(Op op, raft::ClientResponse response) {
  Client& client = clients_[op.client - 1];
  client.last_seen_applied = std::max(client.last_seen_applied, response.applied);
  if (!response.status.ok()) {
    if (absl::IsInvalidArgument(response.status) && !sql_error_) {
      sql_error_ = absl::StrCat("request refused: ", response.status.ToString());
    }
    on_attempt_failed(std::move(op), op.sequence != 0 && !definitely_not_applied(response.status));
    return;
  }
  switch (op.kind) {
    case Kind::kWrite:
    case Kind::kCas:
    case Kind::kSqlWrite:
    case Kind::kReadStrong: finish_command(op, response.response); return;
    default: finish_read(op, response.response); return;
  }
}

void Workload::finish_command(Op& op, const std::string& bytes) {
  absl::StatusOr<BatchResponse> response = statemachine::decode_batch_response(bytes);
  if (!response.ok() || !response->ok()) {
    if (!sql_error_) {
      sql_error_ = absl::StrCat("client ", op.client, " command ", op.sequence, ": ",
                                response.ok() ? response->message : response.status().ToString());
    }
    // A statement failure rolled the batch back; anything else is unexplained.
    const bool rolled_back = response.ok() && response->status == statemachine::ApplyStatus::kStatementFailed;
    ++stats_.sql_errors;
    finish(op, rolled_back ? OpOutcome::kFailed : OpOutcome::kUnknown);
    return;
  }
  if (op.kind == Kind::kReadStrong) {
    std::optional<std::optional<std::string>> value =
        response->results.empty() ? std::nullopt : register_value(response->results[0].rows);
    if (!value) {
      finish(op, OpOutcome::kFailed);
      return;
    }
    finish(op, OpOutcome::kOk, *value);
    return;
  }
  const bool changed = !response->results.empty() && response->results[0].rows_affected == 1;
  finish(op, OpOutcome::kOk, std::nullopt, changed);
}

void Workload::finish_read(Op& op, const std::string& bytes) {
  absl::StatusOr<statemachine::QueryResponse> response = statemachine::decode_query_response(bytes);
  if (!response.ok() || !response->ok()) {
    if (!sql_error_) {
      sql_error_ = absl::StrCat("client ", op.client, " read: ",
                                response.ok() ? response->message : response.status().ToString());
    }
    ++stats_.sql_errors;
    finish(op, OpOutcome::kFailed);
    return;
  }
  if (op.kind == Kind::kSqlRead) {
    finish(op, OpOutcome::kOk);
    return;
  }
  std::optional<std::optional<std::string>> value = register_value(response->rows);
  if (!value) {
    finish(op, OpOutcome::kFailed);
    return;
  }
  if (op.kind == Kind::kReadWeak || op.kind == Kind::kReadNone) {
    weak_reads_.push_back(WeakRead{op.key, *value, cluster_.scheduler().now_us()});
  }
  finish(op, OpOutcome::kOk, *value);
}

void Workload::on_attempt_failed(Op op, bool maybe_applied) {
  op.maybe_applied = op.maybe_applied || maybe_applied;
  if (op.attempts >= options_.max_attempts) {
    finish(op, op.maybe_applied ? OpOutcome::kUnknown : OpOutcome::kFailed);
    return;
  }
  ++stats_.retries;
  // The same command id again: the session table makes a second apply a no-op.
  cluster_.scheduler().schedule_after(options_.retry_backoff_ms * 1000, absl::StrCat("client ", op.client, " retry"),
                                      [this, op]() mutable { attempt(std::move(op)); });
}

void Workload::finish(Op& op, OpOutcome outcome, std::optional<std::string> read_value, bool cas_succeeded) {
  const uint64_t now = cluster_.scheduler().now_us();
  if (op.history_id) {
    switch (outcome) {
      case OpOutcome::kOk:
        if (op.kind == Kind::kWrite) {
          history_.complete_ok_write(*op.history_id, now);
        } else if (op.kind == Kind::kCas) {
          history_.complete_cas(*op.history_id, now, cas_succeeded);
        } else {
          history_.complete_ok_read(*op.history_id, now, std::move(read_value));
        }
        break;
      case OpOutcome::kFailed: history_.complete_failed(*op.history_id, now); break;
      case OpOutcome::kUnknown: history_.complete_unknown(*op.history_id); break;
    }
  }
  ++(outcome == OpOutcome::kOk ? stats_.ok : outcome == OpOutcome::kFailed ? stats_.failed : stats_.unknown);
  REEF_ASSERT(in_flight_ > 0, "workload finished more than it started");
  --in_flight_;
  schedule_next_op(clients_[op.client - 1]);
}

}  // namespace reef::sim
