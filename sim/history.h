// History: what the workload's clients asked of the cluster and what they
// were told, for the linearizability checker (sim/linearizability_checker.h).
//
// The workload treats every key as a register: write(key, value),
// read(key) -> value or absent, compare-and-set(key, expected, new). Each
// operation is recorded when a client invokes it and again when the client
// learns its outcome, in simulated microseconds:
//
//   kOk      it took effect, and its result (read value, CAS success) is known;
//   kFailed  it definitely did not take effect (refused before proposing);
//   kUnknown it may or may not have taken effect, at any time after its
//            invocation (timeout, crashed node). This is also what an
//            operation still in flight when the run ends is: an operation is
//            recorded as kUnknown from invoke() until it completes.
//
// Bound: at most `max_operations` operations (default kMaxOperations). The
// workload must check full() before invoking; invoking on a full history is
// a bug and stops the process (DESIGN.md §7).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace reef::sim {

enum class OpKind { kWrite, kRead, kCas };
enum class OpOutcome { kOk, kFailed, kUnknown };

struct Operation {
  uint64_t id = 0;  // index in History::operations()
  uint64_t client = 0;
  std::string key;
  OpKind kind = OpKind::kRead;
  std::string value;     // write: the value written; cas: the new value
  std::string expected;  // cas: the value it compares with
  uint64_t invoke_us = 0;
  uint64_t complete_us = 0;  // meaningful when outcome != kUnknown
  OpOutcome outcome = OpOutcome::kUnknown;
  std::optional<std::string> read_value;  // read result; nullopt = absent
  bool cas_succeeded = false;             // cas with outcome kOk
};

// One line for messages, e.g.
//   #12 client 3 cas("k", "a" -> "b") [100us, 250us] ok: failed
std::string describe(const Operation& op);

class History {
 public:
  static constexpr size_t kMaxOperations = 1'000'000;

  explicit History(size_t max_operations = kMaxOperations);

  // Records an invocation and returns its id. `value` and `expected` as in
  // Operation (empty where they do not apply).
  uint64_t invoke(uint64_t client, std::string key, OpKind kind, std::string value,
                  std::string expected, uint64_t time_us);

  // Exactly one completion per id, at or after its invocation.
  void complete_ok_read(uint64_t id, uint64_t time_us, std::optional<std::string> value);
  void complete_ok_write(uint64_t id, uint64_t time_us);
  void complete_cas(uint64_t id, uint64_t time_us, bool succeeded);
  void complete_failed(uint64_t id, uint64_t time_us);
  void complete_unknown(uint64_t id);

  const std::vector<Operation>& operations() const { return operations_; }
  size_t size() const { return operations_.size(); }
  bool full() const { return operations_.size() >= max_operations_; }

 private:
  // The operation `id`, asserting it exists and has not completed yet.
  Operation& pending(uint64_t id, uint64_t time_us);
  void complete(Operation& op, uint64_t time_us, OpOutcome outcome);

  size_t max_operations_;
  std::vector<Operation> operations_;
  std::vector<bool> completed_;  // parallel to operations_
};

}  // namespace reef::sim
