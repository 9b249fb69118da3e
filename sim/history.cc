#include "sim/history.h"

#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::sim {
namespace {

std::string quoted(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

std::string call_text(const Operation& op) {
  switch (op.kind) {
    case OpKind::kWrite:
      return absl::StrCat("write(", quoted(op.key), ", ", quoted(op.value), ")");
    case OpKind::kRead:
      return absl::StrCat("read(", quoted(op.key), ")");
    case OpKind::kCas:
      return absl::StrCat("cas(", quoted(op.key), ", ", quoted(op.expected), " -> ", quoted(op.value),
                          ")");
  }
  REEF_UNREACHABLE("op kind ", static_cast<int>(op.kind));
}

std::string outcome_text(const Operation& op) {
  switch (op.outcome) {
    case OpOutcome::kFailed:
      return "failed";
    case OpOutcome::kUnknown:
      return "unknown";
    case OpOutcome::kOk:
      break;
  }
  switch (op.kind) {
    case OpKind::kWrite:
      return "ok";
    case OpKind::kRead:
      return absl::StrCat("ok: ", op.read_value ? quoted(*op.read_value) : "absent");
    case OpKind::kCas:
      return op.cas_succeeded ? "ok: succeeded" : "ok: failed";
  }
  REEF_UNREACHABLE("op kind ", static_cast<int>(op.kind));
}

}  // namespace

std::string describe(const Operation& op) {
  const std::string end =
      op.outcome == OpOutcome::kUnknown ? "?" : absl::StrCat(op.complete_us, "us");
  return absl::StrCat("#", op.id, " client ", op.client, " ", call_text(op), " [", op.invoke_us,
                      "us, ", end, "] ", outcome_text(op));
}

History::History(size_t max_operations) : max_operations_(max_operations) {
  REEF_ASSERT(max_operations_ > 0, "a history must hold at least one operation");
}

uint64_t History::invoke(uint64_t client, std::string key, OpKind kind, std::string value,
                         std::string expected, uint64_t time_us) {
  REEF_ASSERT(!full(), "history full: ", max_operations_, " operations");
  Operation op;
  op.id = operations_.size();
  op.client = client;
  op.key = std::move(key);
  op.kind = kind;
  op.value = std::move(value);
  op.expected = std::move(expected);
  op.invoke_us = time_us;
  op.outcome = OpOutcome::kUnknown;  // until it completes
  operations_.push_back(std::move(op));
  completed_.push_back(false);
  return operations_.back().id;
}

void History::complete_ok_read(uint64_t id, uint64_t time_us, std::optional<std::string> value) {
  Operation& op = pending(id, time_us);
  REEF_ASSERT(op.kind == OpKind::kRead, describe(op));
  op.read_value = std::move(value);
  complete(op, time_us, OpOutcome::kOk);
}

void History::complete_ok_write(uint64_t id, uint64_t time_us) {
  Operation& op = pending(id, time_us);
  REEF_ASSERT(op.kind == OpKind::kWrite, describe(op));
  complete(op, time_us, OpOutcome::kOk);
}

void History::complete_cas(uint64_t id, uint64_t time_us, bool succeeded) {
  Operation& op = pending(id, time_us);
  REEF_ASSERT(op.kind == OpKind::kCas, describe(op));
  op.cas_succeeded = succeeded;
  complete(op, time_us, OpOutcome::kOk);
}

void History::complete_failed(uint64_t id, uint64_t time_us) {
  complete(pending(id, time_us), time_us, OpOutcome::kFailed);
}

void History::complete_unknown(uint64_t id) {
  REEF_ASSERT(id < operations_.size(), "unknown operation id ", id);
  // An unknown outcome has no completion time; the invocation time stands in.
  const uint64_t invoke_us = operations_[id].invoke_us;
  complete(pending(id, invoke_us), invoke_us, OpOutcome::kUnknown);
}

Operation& History::pending(uint64_t id, uint64_t time_us) {
  REEF_ASSERT(id < operations_.size(), "unknown operation id ", id);
  Operation& op = operations_[id];
  REEF_ASSERT(!completed_[id], "completed twice: ", describe(op));
  REEF_ASSERT(time_us >= op.invoke_us, "completes at ", time_us, "us before its invocation: ",
              describe(op));
  return op;
}

void History::complete(Operation& op, uint64_t time_us, OpOutcome outcome) {
  op.complete_us = time_us;
  op.outcome = outcome;
  completed_[op.id] = true;
}

}  // namespace reef::sim
