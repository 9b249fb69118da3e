// A SqlStateMachine fed with numbered entries, for the state machine suites.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"
#include "statemachine/sql_state_machine.h"

namespace reef::statemachine::testing {

inline Statement sql(std::string text, std::vector<Param> params = {}) {
  return Statement{std::move(text), std::move(params)};
}

class Replica {
 public:
  explicit Replica(SqlStateMachineOptions options = {}) {
    auto created = SqlStateMachine::create(options);
    EXPECT_TRUE(created.ok()) << created.status();
    sm = *std::move(created);
  }

  std::string apply_raw(std::string payload, raft::EntryType type = raft::EntryType::kNormal) {
    const raft::Index index = sm->applied().index.next();
    auto response = sm->apply(raft::LogEntry{raft::Term(1), index, type, std::move(payload)});
    EXPECT_TRUE(response.ok()) << response.status();
    if (commit_each_entry) {
      EXPECT_TRUE(sm->commit_applied().ok());
    }
    return response.ok() ? *response : std::string();
  }

  BatchResponse apply(const CommandBatch& batch) {
    auto decoded = decode_batch_response(apply_raw(encode_command_batch(batch)));
    EXPECT_TRUE(decoded.ok()) << decoded.status();
    return decoded.ok() ? *decoded : BatchResponse{};
  }

  // A sessionless batch at a fixed leader time.
  BatchResponse run(std::vector<Statement> statements, int64_t timestamp_ms = 1'700'000'000'000) {
    return apply(CommandBatch{CommandId{}, timestamp_ms, std::move(statements)});
  }

  uint64_t hash() {
    auto h = sm->state_hash();
    EXPECT_TRUE(h.ok()) << h.status();
    return h.ok() ? *h : 0;
  }

  std::unique_ptr<SqlStateMachine> sm;
  // Otherwise every entry joins one commit group, as if the driver applied
  // them all in one turn.
  bool commit_each_entry = false;
};

}  // namespace reef::statemachine::testing
