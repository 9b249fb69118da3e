// CommandBatch decode + apply on arbitrary bytes: the state machine must
// answer every entry with a response (never crash, never fail apply) and
// two replicas fed the same bytes must agree.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>

#include "statemachine/sql_state_machine.h"

namespace {

reef::statemachine::SqlStateMachineOptions options() {
  reef::statemachine::SqlStateMachineOptions o;
  o.apply_step_budget = 10'000;  // keep runaway SQL short under the fuzzer
  o.database.max_database_bytes = 64 << 20;
  o.database.max_value_bytes = 1 << 20;
  return o;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto a = reef::statemachine::SqlStateMachine::create(options());
  auto b = reef::statemachine::SqlStateMachine::create(options());
  if (!a.ok() || !b.ok()) std::abort();
  const std::string payload(reinterpret_cast<const char*>(data), size);
  for (uint64_t index = 1; index <= 2; ++index) {  // twice: the second may be a duplicate
    const reef::raft::LogEntry entry{reef::raft::Term(1), reef::raft::Index(index), reef::raft::EntryType::kNormal,
                                     payload};
    auto ra = (*a)->apply(entry);
    auto rb = (*b)->apply(entry);
    if (!ra.ok() || !rb.ok() || *ra != *rb) std::abort();
  }
  auto ha = (*a)->state_hash();
  auto hb = (*b)->state_hash();
  if (!ha.ok() || !hb.ok() || *ha != *hb) std::abort();
  return 0;
}
