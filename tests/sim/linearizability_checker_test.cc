// Tests of the linearizability checker (sim/linearizability_checker.h) and
// the history recorder (sim/history.h):
//   - classic hand-written histories, each with a known verdict;
//   - RapidCheck: histories cut from a random sequential execution of
//     registers, with real-time intervals stretched around each operation's
//     linearization point, are linearizable by construction; the same
//     histories with one read made impossible are violations;
//   - a timing report for a 10,000-operation history (printed, not asserted).
//
// Default: 300 cases per property with a fixed seed; override with e.g.
//   RC_PARAMS="max_success=5000 seed=7" build/bin/linearizability_checker_test
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/random.h"
#include "sim/history.h"
#include "sim/linearizability_checker.h"
#include "tests/raft/support/rapidcheck_defaults.h"

namespace reef::sim {
namespace {

using ::testing::HasSubstr;
using V = LinearizabilityVerdict;

const bool kRapidCheckDefaults = (raft::testing::set_rapidcheck_defaults(300, 20260601), true);

// ---------------------------------------------------------------------------
// Hand-written histories. Times are microseconds; [from, to] is an op's
// invocation and completion.

class Script {
 public:
  void write(std::string value, uint64_t from, uint64_t to, std::string key = "k") {
    history_.complete_ok_write(invoke(key, OpKind::kWrite, std::move(value), "", from), to);
  }
  void read(std::optional<std::string> value, uint64_t from, uint64_t to, std::string key = "k") {
    history_.complete_ok_read(invoke(key, OpKind::kRead, "", "", from), to, std::move(value));
  }
  void cas(std::string expected, std::string value, bool succeeded, uint64_t from, uint64_t to) {
    history_.complete_cas(invoke("k", OpKind::kCas, std::move(value), std::move(expected), from), to,
                          succeeded);
  }
  void unknown_write(std::string value, uint64_t from) {
    history_.complete_unknown(invoke("k", OpKind::kWrite, std::move(value), "", from));
  }
  void unknown_cas(std::string expected, std::string value, uint64_t from) {
    history_.complete_unknown(invoke("k", OpKind::kCas, std::move(value), std::move(expected), from));
  }
  void failed_write(std::string value, uint64_t from, uint64_t to) {
    history_.complete_failed(invoke("k", OpKind::kWrite, std::move(value), "", from), to);
  }
  void unknown_read(uint64_t from) {
    history_.complete_unknown(invoke("k", OpKind::kRead, "", "", from));
  }

  LinearizabilityResult check(CheckBudget budget = {}) const {
    return check_linearizability(history_.operations(), budget);
  }
  V verdict() const { return check().verdict; }
  const History& history() const { return history_; }

 private:
  uint64_t invoke(std::string key, OpKind kind, std::string value, std::string expected,
                  uint64_t from) {
    return history_.invoke(next_client_++, std::move(key), kind, std::move(value),
                           std::move(expected), from);
  }

  History history_;
  uint64_t next_client_ = 1;
};

TEST(LinearizabilityChecker, EmptyHistoryIsLinearizable) {
  EXPECT_EQ(Script().verdict(), V::kLinearizable);
}

TEST(LinearizabilityChecker, ReadOfAbsentKeyBeforeAnyWriteIsLinearizable) {
  Script s;
  s.read(std::nullopt, 0, 10);
  s.write("a", 20, 30);
  s.read("a", 40, 50);
  EXPECT_EQ(s.verdict(), V::kLinearizable);
}

TEST(LinearizabilityChecker, ReadOfAbsentAfterCompletedWriteIsViolation) {
  Script s;
  s.write("a", 0, 10);
  s.read(std::nullopt, 20, 30);
  EXPECT_EQ(s.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, StaleReadAfterCompletedWriteIsViolation) {
  Script s;
  s.write("a", 0, 10);
  s.write("b", 20, 30);
  s.read("a", 40, 50);
  const LinearizabilityResult r = s.check();
  EXPECT_EQ(r.verdict, V::kViolation);
  EXPECT_EQ(r.key, "k");
  // The evidence: both writes linearize, then the read cannot.
  EXPECT_THAT(r.explanation, HasSubstr("longest linearizable prefix has 2 operations"));
  EXPECT_THAT(r.explanation, HasSubstr("the register holds \"b\""));
  EXPECT_THAT(r.explanation, HasSubstr("#2 client 3 read(\"k\") [40us, 50us] ok: \"a\": cannot be "
                                       "next: it read \"a\" but the register holds \"b\""));
}

TEST(LinearizabilityChecker, ConcurrentWriteAndReadMayLinearizeEitherWay) {
  for (const char* seen : {"a", "b"}) {
    Script s;
    s.write("a", 0, 10);
    s.write("b", 20, 40);
    s.read(seen, 25, 35);
    EXPECT_EQ(s.verdict(), V::kLinearizable) << seen;
  }
}

TEST(LinearizabilityChecker, ReadOfValueNeverWrittenIsViolation) {
  Script s;
  s.write("a", 0, 10);
  s.read("zzz", 0, 20);
  EXPECT_EQ(s.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, NewThenOldReadInversionIsViolation) {
  // While b is being written, one read sees b and a later read sees a again:
  // each read alone fits, together they do not.
  Script s;
  s.write("a", 0, 10);
  s.write("b", 20, 100);
  s.read("b", 30, 40);
  s.read("a", 50, 60);
  EXPECT_EQ(s.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, OldThenNewReadsDuringWriteAreLinearizable) {
  Script s;
  s.write("a", 0, 10);
  s.write("b", 20, 100);
  s.read("a", 30, 40);
  s.read("b", 50, 60);
  EXPECT_EQ(s.verdict(), V::kLinearizable);
}

TEST(LinearizabilityChecker, EqualTimesCountAsConcurrent) {
  Script s;
  s.write("a", 0, 10);
  s.read(std::nullopt, 10, 20);  // invoked the microsecond the write completed
  EXPECT_EQ(s.verdict(), V::kLinearizable);
}

TEST(LinearizabilityChecker, SuccessfulCasNeedsItsExpectedValue) {
  Script ok;
  ok.write("a", 0, 10);
  ok.cas("a", "b", /*succeeded=*/true, 20, 30);
  ok.read("b", 40, 50);
  EXPECT_EQ(ok.verdict(), V::kLinearizable);

  Script bad;
  bad.write("c", 0, 10);
  bad.cas("a", "b", /*succeeded=*/true, 20, 30);
  EXPECT_EQ(bad.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, FailedCasIsAReadOfAnotherValue) {
  Script ok;
  ok.write("c", 0, 10);
  ok.cas("a", "b", /*succeeded=*/false, 20, 30);
  ok.read("c", 40, 50);
  EXPECT_EQ(ok.verdict(), V::kLinearizable);

  Script bad;
  bad.write("a", 0, 10);
  bad.cas("a", "b", /*succeeded=*/false, 20, 30);
  EXPECT_EQ(bad.verdict(), V::kViolation);

  Script absent;  // an absent register never equals an expected value
  absent.cas("", "b", /*succeeded=*/false, 0, 10);
  EXPECT_EQ(absent.verdict(), V::kLinearizable);
}

TEST(LinearizabilityChecker, UnknownWriteMayOrMayNotHaveHappened) {
  for (const char* seen : {"a", "b"}) {
    Script s;
    s.write("a", 0, 10);
    s.unknown_write("b", 20);
    s.read(seen, 30, 40);
    s.read(seen, 50, 60);
    EXPECT_EQ(s.verdict(), V::kLinearizable) << seen;
  }
}

TEST(LinearizabilityChecker, UnknownWriteHappensOnceAndNotBeforeItsInvocation) {
  Script flip_back;  // once b was seen, a cannot come back
  flip_back.write("a", 0, 10);
  flip_back.unknown_write("b", 20);
  flip_back.read("b", 30, 40);
  flip_back.read("a", 50, 60);
  EXPECT_EQ(flip_back.verdict(), V::kViolation);

  Script too_early;
  too_early.write("a", 0, 10);
  too_early.read("b", 12, 15);
  too_early.unknown_write("b", 20);
  EXPECT_EQ(too_early.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, UnknownCasTakesEffectOnlyWhereItsCompareHolds) {
  Script took_effect;
  took_effect.write("a", 0, 10);
  took_effect.unknown_cas("a", "b", 20);
  took_effect.read("b", 30, 40);
  EXPECT_EQ(took_effect.verdict(), V::kLinearizable);

  Script cannot;
  cannot.write("a", 0, 10);
  cannot.unknown_cas("c", "b", 20);
  cannot.read("b", 30, 40);
  EXPECT_EQ(cannot.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, FailedOperationsAndUnknownReadsAreLeftOut) {
  Script s;
  s.write("a", 0, 10);
  s.failed_write("b", 20, 30);
  s.unknown_read(25);
  s.read("a", 40, 50);
  EXPECT_EQ(s.verdict(), V::kLinearizable);

  s.read("b", 60, 70);  // the failed write never happened
  EXPECT_EQ(s.verdict(), V::kViolation);
}

TEST(LinearizabilityChecker, KeysAreCheckedIndependently) {
  Script s;
  s.write("1", 0, 10, "x");
  s.write("1", 0, 10, "y");
  s.read("1", 20, 30, "x");
  s.read(std::nullopt, 20, 30, "y");  // y was written before
  const LinearizabilityResult r = s.check();
  EXPECT_EQ(r.verdict, V::kViolation);
  EXPECT_EQ(r.key, "y");
}

TEST(LinearizabilityChecker, BudgetOfOneStateIsUnknown) {
  Script s;
  s.write("a", 0, 10);
  s.write("b", 20, 30);
  s.read("b", 40, 50);
  const LinearizabilityResult r = s.check({.max_states_per_key = 1, .max_states_total = 100});
  EXPECT_EQ(r.verdict, V::kUnknown);
  EXPECT_EQ(r.key, "k");
  EXPECT_EQ(r.states_explored, 1U);
  EXPECT_THAT(r.explanation, HasSubstr("undecided"));
  EXPECT_EQ(s.check().verdict, V::kLinearizable);
}

TEST(LinearizabilityChecker, ExhaustedTotalBudgetLeavesLaterKeysUnknown) {
  Script s;
  s.write("a", 0, 10, "x");
  s.write("a", 0, 10, "y");
  const LinearizabilityResult r = s.check({.max_states_per_key = 10, .max_states_total = 1});
  EXPECT_EQ(r.verdict, V::kUnknown);
  EXPECT_EQ(r.key, "y");
  EXPECT_THAT(r.explanation, HasSubstr("1 keys were not checked"));
}

TEST(LinearizabilityChecker, ViolationAfterAnUndecidedKeyIsStillReported) {
  Script s;
  s.write("a", 0, 10, "x");
  s.write("b", 20, 30, "x");
  s.read("a", 0, 10, "y");  // never written
  const LinearizabilityResult r = s.check({.max_states_per_key = 1, .max_states_total = 100});
  EXPECT_EQ(r.verdict, V::kViolation);
  EXPECT_EQ(r.key, "y");
}

TEST(LinearizabilityChecker, ManyPendingUnknownWritesStayCheap) {
  // Unknown writes stay candidates forever; without pruning, each read of
  // the old value would first try every subset of them.
  Script s;
  s.write("old", 0, 10);
  for (int i = 0; i < 40; ++i) s.unknown_write(absl::StrCat("lost", i), 20 + i);
  for (uint64_t t = 100; t < 2100; t += 10) s.read("old", t, t + 5);
  const LinearizabilityResult r = s.check();
  EXPECT_EQ(r.verdict, V::kLinearizable) << r.explanation;
  EXPECT_LT(r.states_explored, 20'000U);
}

TEST(LinearizabilityChecker, SameHistorySameResult) {
  Script s;
  s.write("a", 0, 10);
  s.write("b", 20, 100);
  s.read("b", 30, 40);
  s.read("a", 50, 60);
  const LinearizabilityResult first = s.check();
  const LinearizabilityResult second = s.check();
  EXPECT_EQ(first.explanation, second.explanation);
  EXPECT_EQ(first.states_explored, second.states_explored);
}

TEST(History, RecordsOutcomesAndDescribesOperations) {
  History h(/*max_operations=*/3);
  const uint64_t w = h.invoke(7, "k", OpKind::kWrite, "v", "", 100);
  const uint64_t c = h.invoke(8, "k", OpKind::kCas, "n", "v", 110);
  const uint64_t r = h.invoke(9, "k", OpKind::kRead, "", "", 120);
  EXPECT_TRUE(h.full());
  EXPECT_EQ(h.operations()[r].outcome, OpOutcome::kUnknown);  // still in flight
  h.complete_ok_write(w, 150);
  h.complete_cas(c, 160, /*succeeded=*/false);
  h.complete_ok_read(r, 170, std::nullopt);
  EXPECT_EQ(describe(h.operations()[w]), "#0 client 7 write(\"k\", \"v\") [100us, 150us] ok");
  EXPECT_EQ(describe(h.operations()[c]), "#1 client 8 cas(\"k\", \"v\" -> \"n\") [110us, 160us] ok: failed");
  EXPECT_EQ(describe(h.operations()[r]), "#2 client 9 read(\"k\") [120us, 170us] ok: absent");
}

TEST(HistoryDeathTest, RejectsDoubleCompletionAndOverflow) {
  History h(/*max_operations=*/1);
  const uint64_t w = h.invoke(1, "k", OpKind::kWrite, "v", "", 100);
  h.complete_unknown(w);
  EXPECT_EQ(describe(h.operations()[w]), "#0 client 1 write(\"k\", \"v\") [100us, ?] unknown");
  EXPECT_DEATH(h.complete_ok_write(w, 150), "completed twice");
  EXPECT_DEATH(h.invoke(1, "k", OpKind::kRead, "", "", 200), "history full");
}

// ---------------------------------------------------------------------------
// Generated histories. `Pick(bound)` returns a value in [0, bound): RapidCheck
// in the properties (so failures shrink), a seeded PRNG for the timing report.

using Pick = std::function<uint64_t(uint64_t bound)>;

struct GenParams {
  uint64_t ops;
  uint64_t keys;
  uint64_t stretch_us;  // an op's interval reaches up to this far around its point
  uint64_t clients;
};

constexpr uint64_t kSpacingUs = 10;  // between consecutive linearization points

// A sequential execution of registers, one operation every kSpacingUs, each
// recorded with an interval around its point. Some writes and CASes end
// unknown (they did take effect); some extra operations never take effect
// (unknown or failed outcome); some reads end unknown. Linearizable by
// construction. Values are unique, so a read names the write it saw.
std::vector<Operation> generate_history(const GenParams& p, const Pick& pick) {
  History h;
  std::map<std::string, std::optional<std::string>> registers;
  std::vector<std::string> written;  // for CASes that expect an old value
  for (uint64_t i = 0; i < p.ops; ++i) {
    const uint64_t point_us = p.stretch_us + 1 + i * kSpacingUs;
    const uint64_t from = point_us - pick(p.stretch_us + 1);
    const uint64_t to = point_us + pick(p.stretch_us + 1);
    const std::string key = absl::StrCat("k", pick(p.keys));
    const uint64_t client = pick(p.clients);
    std::optional<std::string>& reg = registers[key];
    const std::string value = absl::StrCat("v", i);
    const uint64_t dice = pick(100);
    if (dice < 10) {  // never takes effect
      const OpKind kind = pick(2) == 0 ? OpKind::kWrite : OpKind::kCas;
      const uint64_t id = h.invoke(client, key, kind, value, reg.value_or("x"), from);
      pick(2) == 0 ? h.complete_unknown(id) : h.complete_failed(id, to);
    } else if (dice < 40) {
      const uint64_t id = h.invoke(client, key, OpKind::kWrite, value, "", from);
      reg = value;
      pick(5) == 0 ? h.complete_unknown(id) : h.complete_ok_write(id, to);
    } else if (dice < 75) {
      const uint64_t id = h.invoke(client, key, OpKind::kRead, "", "", from);
      pick(10) == 0 ? h.complete_unknown(id) : h.complete_ok_read(id, to, reg);
    } else {
      const bool aim = pick(2) == 0 || written.empty();
      const std::string expected = aim ? reg.value_or("x") : written[pick(written.size())];
      const uint64_t id = h.invoke(client, key, OpKind::kCas, value, expected, from);
      const bool succeeded = reg == expected;
      if (succeeded) reg = value;
      pick(5) == 0 ? h.complete_unknown(id) : h.complete_cas(id, to, succeeded);
    }
    written.push_back(value);
  }
  return h.operations();
}

// Full-range picks at every size (gen::inRange alone only yields 0 at size
// 0); they still shrink towards 0.
Pick rapidcheck_pick() {
  return [](uint64_t bound) { return *rc::gen::resize(100, rc::gen::inRange<uint64_t>(0, bound)); };
}

// Proving a violation exhausts every configuration before the bad read, and
// each unknown write or CAS still pending doubles them; the properties that
// expect violations therefore keep concurrency moderate (`wide` = false) so
// that the default budget decides every case.
GenParams gen_params(bool wide) {
  return GenParams{
      .ops = *rc::gen::inRange<uint64_t>(1, 120),
      .keys = *rc::gen::inRange<uint64_t>(1, 4),
      .stretch_us = wide ? *rc::gen::element<uint64_t>(0, 5, 30, 100)
                         : *rc::gen::element<uint64_t>(0, 5, 30),
      .clients = 5,
  };
}

bool is_ok_read(const Operation& op) {
  return op.kind == OpKind::kRead && op.outcome == OpOutcome::kOk;
}

// A definite operation that certainly took effect: an OK write or a
// successful OK CAS.
bool definitely_wrote(const Operation& op) {
  return op.outcome == OpOutcome::kOk &&
         (op.kind == OpKind::kWrite || (op.kind == OpKind::kCas && op.cas_succeeded));
}

// An OK read R and a value it cannot return: that of a definite write W0
// that completed before a definite write W of another value invoked, where W
// completed before R invoked. Every linearization orders W0 < W < R, and
// values are unique, so R cannot see W0's value. nullopt if none exists.
std::optional<std::pair<size_t, std::string>> find_stale_read(const std::vector<Operation>& ops) {
  for (size_t r = 0; r < ops.size(); ++r) {
    if (!is_ok_read(ops[r])) continue;
    for (const Operation& w : ops) {
      if (w.key != ops[r].key || !definitely_wrote(w) || w.complete_us >= ops[r].invoke_us) continue;
      for (const Operation& w0 : ops) {
        if (w0.key == w.key && definitely_wrote(w0) && w0.complete_us < w.invoke_us) {
          return std::make_pair(r, w0.value);
        }
      }
    }
  }
  return std::nullopt;
}

// Shown with a failing (shrunk) case only.
void log_failure(const std::vector<Operation>& ops, const LinearizabilityResult& r) {
  for (const Operation& op : ops) RC_LOG() << describe(op) << "\n";
  RC_LOG() << verdict_name(r.verdict) << ": " << r.explanation << "\n";
}

RC_GTEST_PROP(LinearizabilityCheckerProperties, SequentialExecutionsAreLinearizable, ()) {
  const GenParams params = gen_params(/*wide=*/true);
  const std::vector<Operation> ops = generate_history(params, rapidcheck_pick());
  const LinearizabilityResult r = check_linearizability(ops, CheckBudget{});
  log_failure(ops, r);
  RC_CLASSIFY(params.stretch_us >= 30, "overlapping");
  RC_ASSERT(r.verdict == V::kLinearizable);
}

RC_GTEST_PROP(LinearizabilityCheckerProperties, ReadOfUnwrittenValueIsViolation, ()) {
  std::vector<Operation> ops = generate_history(gen_params(/*wide=*/false), rapidcheck_pick());
  std::vector<size_t> reads;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (is_ok_read(ops[i])) reads.push_back(i);
  }
  RC_PRE(!reads.empty());
  Operation& victim = ops[*rc::gen::elementOf(reads)];
  victim.read_value = "never-written";
  const LinearizabilityResult r = check_linearizability(ops, CheckBudget{});
  log_failure(ops, r);
  RC_ASSERT(r.verdict == V::kViolation);
  RC_ASSERT(r.key == victim.key);
}

RC_GTEST_PROP(LinearizabilityCheckerProperties, ReadOfOverwrittenValueIsViolation, ()) {
  std::vector<Operation> ops = generate_history(gen_params(/*wide=*/false), rapidcheck_pick());
  const auto stale = find_stale_read(ops);
  RC_PRE(stale.has_value());
  Operation& victim = ops[stale->first];
  RC_ASSERT(victim.read_value != stale->second);  // the original history is linearizable
  victim.read_value = stale->second;
  const LinearizabilityResult r = check_linearizability(ops, CheckBudget{});
  log_failure(ops, r);
  RC_ASSERT(r.verdict == V::kViolation);
  RC_ASSERT(r.key == victim.key);
}

// ---------------------------------------------------------------------------
// Timing report: printed, not asserted (machines differ).

void report_timing(const char* name, const GenParams& params, V expected) {
  raft::Prng prng(20260601);
  std::vector<Operation> ops =
      generate_history(params, [&](uint64_t bound) { return prng.below(bound); });
  if (expected == V::kViolation) {
    for (Operation& op : ops) {
      if (is_ok_read(op) && op.invoke_us > params.ops * kSpacingUs / 2) {
        op.read_value = "never-written";  // one read, halfway through
        break;
      }
    }
  }
  const auto start = std::chrono::steady_clock::now();
  const LinearizabilityResult r = check_linearizability(ops, CheckBudget{});
  const auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.verdict, expected) << r.explanation;
  std::printf("[ timing ] %s: %zu ops, %llu keys, stretch %lluus: %s in %.1f ms, %llu states\n",
              name, ops.size(), static_cast<unsigned long long>(params.keys),
              static_cast<unsigned long long>(params.stretch_us),
              std::string(verdict_name(r.verdict)).c_str(),
              std::chrono::duration<double, std::milli>(elapsed).count(),
              static_cast<unsigned long long>(r.states_explored));
}

TEST(LinearizabilityCheckerTiming, TenThousandOpsOverFiftyKeys) {
  const GenParams params{.ops = 10'000, .keys = 50, .stretch_us = 50, .clients = 20};
  report_timing("50 keys", params, V::kLinearizable);
  report_timing("50 keys, one bad read", params, V::kViolation);
}

TEST(LinearizabilityCheckerTiming, TenThousandOpsOnOneKey) {
  const GenParams params{.ops = 10'000, .keys = 1, .stretch_us = 50, .clients = 20};
  report_timing("1 key", params, V::kLinearizable);
}

}  // namespace
}  // namespace reef::sim
