// Property tests of the whole core: RapidCheck generates schedules (3 to 5
// voters, message delivery / loss / duplication / reordering, ticks,
// proposals, reads, elections, crashes that lose unpersisted writes,
// partitions, compaction, leadership transfer) and the schedule runner
// (tests/raft/support/schedule.h) checks, after every step:
//
//   election safety, log matching, leader completeness, state machine
//   safety and vote safety (RaftSafetyChecker), every core's own invariants,
//   that OK read points are linearizable (ReadIndex, and leases on lockstep
//   clocks), and that proposal results name what was applied;
//
// and at the end, as liveness sanity: once healed, with prompt disk writes
// and time passing, a leader emerges and a fresh proposal is applied on
// every node.
//
// A failing case is shrunk to a short schedule and printed with its fuzzer
// bytes ("bytes: ..."), ready to be saved into fuzz/corpus/raft_schedule/
// and replayed. A core assertion failure is a failing case too: this binary
// links sim/throwing_assertions.cc.
//
// Default: 200 cases per property with a fixed seed; override with e.g.
//   RC_PARAMS="max_success=5000 seed=7" build/bin/raft_properties_test
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/raft/support/rapidcheck_defaults.h"
#include "tests/raft/support/schedule.h"
#include "tests/raft/support/schedule_gen.h"

namespace reef::raft::testing {
namespace {

const bool kRapidCheckDefaults = (set_rapidcheck_defaults(200, 20260522), true);

void check_run(const Schedule& schedule) {
  const RunResult r = run_schedule(schedule);
  RC_CLASSIFY(r.committed_entries > 2, "committed entries");
  RC_CLASSIFY(r.restarts > 0, "restarts");
  RC_CLASSIFY(r.compactions > 0, "compactions");
  RC_CLASSIFY(r.reads_ok > 0, "reads answered");
  RC_CLASSIFY(r.max_term > 3, "term > 3");
  RC_CLASSIFY(schedule.lease_reads, "lease reads");
  RC_CLASSIFY(schedule.learners > 0, "learner");
  RC_CLASSIFY(r.membership_changes > 0, "membership changes");
  RC_CLASSIFY(schedule.actions.size() >= 250, ">= 250 actions");
  if (r.violation) RC_FAIL("safety: " + *r.violation);
  if (r.liveness_failure) RC_FAIL(*r.liveness_failure);
}

RC_GTEST_PROP(RaftProperties, RandomSchedulesAreSafeAndLive, ()) {
  check_run(*gen_schedule(ScheduleMix::balanced()));
}

// Every node writes only when told to, and crashes are frequent: restarts
// lose whatever was not persisted, which is where durability-ordering bugs
// (acks before writes, votes forgotten) would show.
RC_GTEST_PROP(RaftProperties, CrashHeavySchedulesAreSafeAndLive, ()) {
  check_run(*gen_schedule(ScheduleMix::crash_heavy()));
}

// Competing candidates, crashes and reordered votes, no client traffic.
RC_GTEST_PROP(RaftProperties, ElectionHeavySchedulesAreSafeAndLive, ()) {
  check_run(*gen_schedule(ScheduleMix::election_heavy()));
}

// Same schedule, same run: determinism is what makes every counterexample
// (and every fuzzer crash) replayable.
RC_GTEST_PROP(RaftProperties, RunsAreDeterministic, ()) {
  const Schedule schedule = *gen_schedule(ScheduleMix::balanced());
  const RunResult a = run_schedule(schedule);
  const RunResult b = run_schedule(schedule);
  RC_ASSERT(a.summary() == b.summary());
  RC_ASSERT(a.final_state == b.final_state);
  RC_ASSERT(a.violation == b.violation);
  RC_ASSERT(a.liveness_failure == b.liveness_failure);
}

RC_GTEST_PROP(ScheduleEncoding, BytesRoundTrip, ()) {
  const Schedule schedule = *gen_schedule(ScheduleMix::balanced());
  RC_ASSERT(from_bytes(to_bytes(schedule)) == schedule);
}

RC_GTEST_PROP(ScheduleEncoding, AnyBytesDecodeToAValidSchedule, (const std::vector<uint8_t>& bytes)) {
  const Schedule schedule = from_bytes(bytes);
  RC_ASSERT(schedule.nodes >= 3 && schedule.nodes <= 5);
  RC_ASSERT(schedule.learners <= 1);
  RC_ASSERT(schedule.election_timeout_ticks >= 3 && schedule.election_timeout_ticks <= 6);
  RC_ASSERT(schedule.actions.size() <= kMaxDecodedActions);
  RC_ASSERT(schedule.actions.size() ==
            (bytes.size() < 4 ? 0 : std::min((bytes.size() - 4) / 3, kMaxDecodedActions)));
  // Re-encoding keeps every action byte (kinds are reduced modulo the kind
  // count, so compare decoded forms).
  RC_ASSERT(from_bytes(to_bytes(schedule)) == schedule);
}

TEST(ScheduleEncoding, EmptyInputIsAnIdleThreeNodeCluster) {
  const Schedule schedule = from_bytes({});
  EXPECT_EQ(schedule.nodes, 3);
  EXPECT_TRUE(schedule.actions.empty());
  // Nothing happens, then the liveness phase must still elect and commit.
  const RunResult r = run_schedule(schedule);
  EXPECT_TRUE(r.ok()) << r.violation.value_or("") << r.liveness_failure.value_or("");
}

TEST(ScheduleEncoding, LongInputsAreCapped) {
  const std::vector<uint8_t> bytes(4 + 3 * (kMaxDecodedActions + 100), 7);
  EXPECT_EQ(from_bytes(bytes).actions.size(), kMaxDecodedActions);
}

// ---------------------------------------------------------------------------
// Replays: every seed of the schedule fuzzer's corpus, in the normal build
// too, so a saved counterexample keeps guarding its bug without a fuzz run.

std::vector<std::filesystem::path> corpus_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(REEF_SCHEDULE_CORPUS_DIR)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(ScheduleCorpus, EverySeedRunsClean) {
  const std::vector<std::filesystem::path> files = corpus_files();
  ASSERT_FALSE(files.empty()) << REEF_SCHEDULE_CORPUS_DIR;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const RunResult r = run_schedule(from_bytes(bytes));
    EXPECT_TRUE(r.ok()) << file.filename() << ": " << r.violation.value_or("")
                        << r.liveness_failure.value_or("");
  }
}

// ---------------------------------------------------------------------------
// Harness regressions found by these properties (tests/raft/support/cluster.cc).

// Found by RandomSchedulesAreSafeAndLive: switching a node from manual to
// automatic persistence with several writes queued made the Persisted step
// of the first write persist its own output at once, ahead of the queued
// writes: entry 2 was applied before entry 1 ("harness: apply out of
// order"). persist() now drains one FIFO queue.
TEST(HarnessRegression, QueuedWritesKeepTheirOrderWhenPersistenceTurnsAutomatic) {
  const std::vector<uint8_t> bytes = {0, 1,  1, 0,  12, 107, 0, 9, 0, 0, 4,  2, 0, 11, 0, 0, 4, 5,
                                      0, 15, 0, 34, 12, 0,   0, 0, 0, 0, 0,  0, 0, 0,  0, 0, 0, 0,
                                      0, 0,  3, 0,  0,  15,  0, 6, 0, 0, 11, 0, 0, 4,  9, 0};
  const RunResult r = run_schedule(from_bytes(bytes));
  EXPECT_TRUE(r.ok()) << r.violation.value_or("") << r.liveness_failure.value_or("");
}

// A follower that writes only on demand can take two snapshots before its
// first write: each queued write must install the state that came with its
// own InstallSnapshot, not the latest one.
TEST(HarnessRegression, TwoSnapshotsQueuedBeforeOnePersist) {
  const NodeId n1(1), n2(2), n3(3);
  Cluster c({.voters = 3});
  ASSERT_EQ(c.elect(n1), n1);
  c.isolate(n3);
  auto commit_more = [&](int count, const std::string& prefix) {
    for (int i = 0; i < count; ++i) ASSERT_TRUE(c.propose(n1, prefix + std::to_string(i)).status.ok());
    c.deliver_all();
    c.tick_all();
    c.deliver_all();
  };
  commit_more(3, "a");
  c.compact(n1, Index(c.applied(n1).size()));
  const size_t first_snapshot = c.applied(n1).size();
  c.heal();
  c.set_manual_persist(n3, true);
  // Deliver until n3 has taken the first snapshot (its write stays queued).
  auto take_snapshot = [&] {
    for (int step = 0; step < 1000; ++step) {
      if (c.in_flight().empty()) {
        c.tick(n1);
        continue;
      }
      const Message& m = c.in_flight().front().message;
      const bool is_snapshot_for_n3 = m.to == n3 && std::holds_alternative<InstallSnapshot>(m.body);
      c.deliver(0);
      if (is_snapshot_for_n3) return true;
    }
    return false;
  };
  ASSERT_TRUE(take_snapshot()) << c.describe();
  ASSERT_TRUE(c.has_pending_write(n3));
  // n1 and n2 commit on without n3, and n1 compacts past what n3 has, so
  // n3 can only catch up with a second snapshot.
  c.isolate(n3);
  commit_more(2, "b");
  c.compact(n1, Index(c.applied(n1).size()));
  ASSERT_GT(c.applied(n1).size(), first_snapshot);
  c.heal();
  ASSERT_TRUE(take_snapshot()) << c.describe();
  // Both snapshots are in n3's core; neither is on its disk yet.
  ASSERT_GT(c.core(n3).log().snapshot().index.value(), first_snapshot);
  ASSERT_TRUE(c.has_pending_write(n3));
  ASSERT_LT(c.applied(n3).size(), first_snapshot);
  c.persist(n3);
  c.set_manual_persist(n3, false);
  c.tick_all();
  c.deliver_all();
  EXPECT_EQ(c.applied_payloads(n3), c.applied_payloads(n1));
  EXPECT_EQ(c.applied_payloads(n3), c.applied_payloads(n2));
  EXPECT_TRUE(c.checker().ok()) << *c.checker().violation();
}

}  // namespace
}  // namespace reef::raft::testing
