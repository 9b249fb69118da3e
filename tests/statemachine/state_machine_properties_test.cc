// Properties of SqlStateMachine over random batch sequences: snapshot and
// restore at any point converge with the original, replaying a whole
// sequence changes nothing (exactly-once), duplicates return the stored
// response.
#include <map>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "rapidcheck.h"
#include "rapidcheck/gtest.h"
#include "tests/statemachine/harness.h"

namespace reef::statemachine {
namespace {

using testing::Replica;
using testing::sql;

struct Op {
  int kind = 0;
  uint64_t client = 0;  // 1..3
  int64_t a = 0;
  std::string s;
  int64_t dt_ms = 0;
};

Statement statement_for(const Op& op) {
  switch (op.kind) {
    case 0:
      return sql("INSERT INTO t(k, s, r, ts) VALUES (?, ?, random(), CURRENT_TIMESTAMP)",
                 {{"", op.a}, {"", Value(op.s)}});
    case 1:
      return sql("UPDATE t SET s = s || :s, r = abs(random()) % 100 WHERE k % 3 = :a",
                 {{":s", Value(op.s)}, {":a", op.a % 3}});
    case 2:
      return sql("DELETE FROM t WHERE id = ?", {{"", op.a}});
    case 3:
      return sql("INSERT INTO t(k, s) VALUES (?, NULL)", {{"", op.a}});  // NOT NULL: fails
    case 4:
      return sql("INSERT INTO t(k, s, r, ts) SELECT k + 1, s, random(), datetime('now') FROM t WHERE id > ? LIMIT 3",
                 {{"", op.a}});
    default:
      return sql(op.a % 2 == 0 ? "CREATE INDEX IF NOT EXISTS t_by_k ON t(k)" : "DROP INDEX IF EXISTS t_by_k");
  }
}

// Batches of 1-3 ops; per-client sequences strictly increase.
std::vector<CommandBatch> batches_for(const std::vector<Op>& ops) {
  std::vector<CommandBatch> out;
  std::map<uint64_t, uint64_t> sequence;
  int64_t now = 1'700'000'000'000;
  for (size_t i = 0; i < ops.size();) {
    const size_t n = std::min<size_t>(ops.size() - i, 1 + static_cast<size_t>(ops[i].a % 3));
    CommandBatch batch;
    batch.id = CommandId{ops[i].client, ++sequence[ops[i].client]};
    now += ops[i].dt_ms;
    batch.leader_timestamp_ms = now;
    for (size_t j = i; j < i + n; ++j) batch.statements.push_back(statement_for(ops[j]));
    out.push_back(std::move(batch));
    i += n;
  }
  return out;
}

rc::Gen<Op> gen_op() {
  return rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::inRange(0, 6)),
                            rc::gen::set(&Op::client, rc::gen::inRange<uint64_t>(1, 4)),
                            rc::gen::set(&Op::a, rc::gen::inRange<int64_t>(0, 40)),
                            rc::gen::set(&Op::s, rc::gen::container<std::string>(rc::gen::inRange('a', 'f'))),
                            rc::gen::set(&Op::dt_ms, rc::gen::inRange<int64_t>(-500, 5000)));
}

void setup(Replica& r) {
  RC_ASSERT(r.run({sql("CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, s TEXT NOT NULL, r INTEGER, ts TEXT)")})
                .ok());
}

std::string snapshot_bytes(SqlStateMachine& sm) {
  auto snapshot = sm.snapshot(raft::Configuration::of_voters({raft::NodeId(1)}));
  RC_ASSERT(snapshot.ok());
  std::string out;
  while (true) {
    auto chunk = (*snapshot)->next_chunk(64 * 1024);
    RC_ASSERT(chunk.ok());
    if (!chunk->has_value()) return out;
    out += **chunk;
  }
}

RC_GTEST_PROP(StateMachineProperties, SnapshotRestoreAtAnyPointConverges, ()) {
  const auto ops = *rc::gen::container<std::vector<Op>>(gen_op());
  const std::vector<CommandBatch> batches = batches_for(ops);
  const size_t cut = *rc::gen::inRange<size_t>(0, batches.size() + 1);
  Replica a;
  setup(a);
  for (size_t i = 0; i < cut; ++i) a.apply(batches[i]);
  const std::string bytes = snapshot_bytes(*a.sm);
  Replica b;
  auto restore = b.sm->begin_restore();
  RC_ASSERT(restore.ok());
  RC_ASSERT((*restore)->add_chunk(bytes).ok());
  RC_ASSERT((*restore)->finish().ok());
  RC_ASSERT(a.hash() == b.hash());
  for (size_t i = cut; i < batches.size(); ++i) {
    const BatchResponse ra = a.apply(batches[i]);
    const BatchResponse rb = b.apply(batches[i]);
    RC_ASSERT(ra == rb);
  }
  RC_ASSERT(a.sm->applied() == b.sm->applied());
  RC_ASSERT(a.hash() == b.hash());
}

RC_GTEST_PROP(StateMachineProperties, ReplayingEverythingChangesNothing, ()) {
  const std::vector<CommandBatch> batches = batches_for(*rc::gen::container<std::vector<Op>>(gen_op()));
  Replica r;
  setup(r);
  std::map<uint64_t, std::pair<uint64_t, BatchResponse>> last;  // client -> (sequence, response)
  for (const CommandBatch& batch : batches) last[batch.id.client_id] = {batch.id.sequence, r.apply(batch)};
  const uint64_t hash = r.hash();
  for (const CommandBatch& batch : batches) {
    BatchResponse again = r.apply(batch);
    const auto& [sequence, original] = last[batch.id.client_id];
    if (batch.id.sequence == sequence) {
      RC_ASSERT(again.duplicate);
      again.duplicate = false;
      RC_ASSERT(again == original);
    } else {
      RC_ASSERT(again.status == ApplyStatus::kStale);
    }
  }
  RC_ASSERT(r.hash() == hash);
}

RC_GTEST_PROP(StateMachineProperties, TwoReplicasAgreeEntryByEntry, ()) {
  const std::vector<CommandBatch> batches = batches_for(*rc::gen::container<std::vector<Op>>(gen_op()));
  Replica a;
  Replica b;
  setup(a);
  setup(b);
  for (const CommandBatch& batch : batches) {
    const std::string payload = encode_command_batch(batch);
    RC_ASSERT(a.apply_raw(payload) == b.apply_raw(payload));
  }
  RC_ASSERT(a.hash() == b.hash());
}

}  // namespace
}  // namespace reef::statemachine
