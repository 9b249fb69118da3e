// Property tests of LogStore against a model (RapidCheck). Generated
// sequences of appends (some of them invalid: index gaps and repeats, terms
// going back, oversized payloads), suffix truncations and prefix compactions
// at positions in and around the log, reads of random ranges and reopens run
// on a store with small segments (200..2000 bytes, so batches roll segments
// and compaction has whole segments to drop). The model is the log as a
// vector of entries with the semantics documented in storage/log_store.h.
//
//  - ModelEquivalence (SimFileSystem) and ModelEquivalenceOnPosix (real files
//    in a mkdtemp directory): after every operation the store agrees with the
//    model on its bounds, term_at of every index (OUT_OF_RANGE just outside),
//    a read of the whole log, and the segment files on disk (packed
//    greedily; compaction leaves no removable segment). Errors come exactly
//    where documented and change nothing.
//  - CrashesRecoverWhatWasAcknowledged: the log lives through several process
//    lifetimes. Each may die after a generated number of file-system
//    operations (CrashPointFileSystem, names made durable eagerly or only by
//    sync_dir), in the middle of recovery, an append, a truncation or a
//    compaction, and ends in a machine crash (SimFileSystem::crash(), torn
//    writes in most cases) or only a process restart. Every successful open
//    must recover exactly the acknowledged log, or, if an operation was in
//    flight, a state that operation may pass through (as
//    CrashAfterEveryOperationRecoversAnAcknowledgedPrefix in
//    log_store_test.cc, which runs one fixed workload exhaustively).
//  - FlippedBitsAreNeverServed: after a random history, one flipped bit on
//    disk makes reading the whole log DATA_LOSS, and a reopen either fails
//    with DATA_LOSS or cuts only the final record as a torn tail.
//
// A broken LogStore assertion is a failing case too (this binary links
// sim/throwing_assertions.cc), so RapidCheck shrinks it.
//
// Default: 200 cases per property (sequences of at most 12 operations on real
// files) with a fixed seed; more with
//   RC_PARAMS="max_success=5000" build/bin/log_store_properties_test
// (add seed=N for a different search).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <ostream>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "encoding/little_endian.h"
#include "raft/core/log_entry.h"
#include "sim/sim_file_system.h"
#include "storage/log_store.h"
#include "tests/raft/support/rapidcheck_defaults.h"
#include "tests/storage/crash_point_file_system.h"
#include "tests/storage/store_test_backends.h"

namespace reef::storage {
namespace {

using encoding::get_u32;
using raft::EntryType;
using raft::Index;
using raft::LogEntry;
using raft::Term;
using testing::CrashPointFileSystem;

const bool kRapidCheckDefaults = (raft::testing::set_rapidcheck_defaults(200, 20260611), true);

constexpr uint32_t kMaxEntryBytes = 512;  // payloads are 0..300 bytes; kOversized goes past it

// ------------------------------------------------------------------ operations

// How an append's batch is spoiled. The model, not the generator, decides
// whether the result is an error: a shifted batch is fine on an empty log.
enum class Flaw : uint8_t { kNone, kSkipIndex, kRepeatIndex, kHoleInBatch, kTermBelow, kOversized };

struct Op {
  enum Kind : uint8_t { kAppend, kTruncate, kCompact, kRead, kReopen };
  Kind kind = kAppend;
  // kAppend: payload bytes and term step of each entry; the first index when
  // the log is empty (any index is allowed then).
  std::vector<std::pair<uint16_t, uint8_t>> entries;
  Flaw flaw = Flaw::kNone;
  uint8_t empty_log_start = 1;
  // kTruncate, kCompact: `a` picks the argument, kRead: `a` picks from and
  // `b` the length; see Model::near.
  uint16_t a = 0;
  uint16_t b = 0;
};

std::ostream& operator<<(std::ostream& os, const Op& op) {
  switch (op.kind) {
    case Op::kAppend:
      os << "append(start " << int{op.empty_log_start} << " if empty, flaw " << static_cast<int>(op.flaw)
         << ", [payload bytes,+term]:";
      for (const auto& [bytes, step] : op.entries) os << " " << bytes << ",+" << int{step};
      return os << ")";
    case Op::kTruncate:
      return os << "truncate_suffix(pick " << op.a << ")";
    case Op::kCompact:
      return os << "compact_prefix(pick " << op.a << ")";
    case Op::kRead:
      return os << "read(pick " << op.a << ", length pick " << op.b << ")";
    case Op::kReopen:
      return os << "reopen";
  }
  return os;
}

// RapidCheck shrinks an element towards the first choices: appends first.
rc::Gen<Op> gen_op(bool with_reopen) {
  const rc::Gen<Op::Kind> kinds =
      with_reopen ? rc::gen::weightedElement<Op::Kind>(
                        {{10, Op::kAppend}, {3, Op::kTruncate}, {3, Op::kCompact}, {3, Op::kRead}, {2, Op::kReopen}})
                  : rc::gen::weightedElement<Op::Kind>(
                        {{10, Op::kAppend}, {3, Op::kTruncate}, {3, Op::kCompact}, {3, Op::kRead}});
  const auto entry = rc::gen::pair(rc::gen::inRange<uint16_t>(0, 301),
                                   rc::gen::weightedElement<uint8_t>({{4, 0}, {2, 1}, {1, 2}}));
  return rc::gen::apply(
      [](Op::Kind kind, std::vector<std::pair<uint16_t, uint8_t>> entries, Flaw flaw, uint8_t start,
         uint16_t a, uint16_t b) {
        Op op{kind, {}, Flaw::kNone, 1, a, b};
        if (kind == Op::kAppend) {
          op.entries = std::move(entries);
          op.flaw = flaw;
          op.empty_log_start = start;
        }
        return op;
      },
      kinds,
      rc::gen::mapcat(rc::gen::inRange(1, 9),
                      [entry](int n) {
                        return rc::gen::container<std::vector<std::pair<uint16_t, uint8_t>>>(
                            static_cast<size_t>(n), entry);
                      }),
      rc::gen::weightedElement<Flaw>({{30, Flaw::kNone},
                                      {1, Flaw::kSkipIndex},
                                      {1, Flaw::kRepeatIndex},
                                      {1, Flaw::kHoleInBatch},
                                      {1, Flaw::kTermBelow},
                                      {1, Flaw::kOversized}}),
      rc::gen::inRange<uint8_t>(1, 5), rc::gen::inRange<uint16_t>(0, 1000), rc::gen::inRange<uint16_t>(0, 1000));
}

// Up to `max_ops` operations (fewer in early cases: RapidCheck grows its size
// parameter from case to case). Capping a plain container, rather than
// drawing a length first, keeps shrinking by removing operations.
rc::Gen<std::vector<Op>> gen_ops(size_t max_ops, bool with_reopen) {
  return rc::gen::map(rc::gen::container<std::vector<Op>>(gen_op(with_reopen)), [max_ops](std::vector<Op> ops) {
    if (ops.size() > max_ops) ops.resize(max_ops);
    return ops;
  });
}

// ----------------------------------------------------------------------- model

// The log as storage/log_store.h says it must be.
struct Model {
  std::vector<LogEntry> log;  // contiguous indexes
  uint64_t batches = 0;       // tags payloads, so a rewritten index reads differently

  uint64_t first() const { return log.empty() ? 0 : log.front().index.value(); }
  uint64_t last() const { return log.empty() ? 0 : log.back().index.value(); }
  // An index in [first - 1, last + 2] ([0, 2] when empty): arguments land
  // inside the log and just outside both ends.
  uint64_t near(uint16_t pick) const {
    const uint64_t base = log.empty() ? 0 : first() - 1;
    return base + pick % (log.size() + 3);
  }

  // The batch `op` describes, appended after the current log (flaws aside).
  std::vector<LogEntry> batch(const Op& op) {
    ++batches;
    std::vector<LogEntry> out;
    uint64_t index = log.empty() ? op.empty_log_start : last() + 1;
    uint64_t term = log.empty() ? 0 : log.back().term.value();
    for (const auto& [bytes, step] : op.entries) {
      term = std::max<uint64_t>(term + step, 1);
      LogEntry e{Term(term), Index(index++), bytes == 0 ? EntryType::kNoop : EntryType::kNormal, ""};
      e.payload = absl::StrCat("i", e.index.value(), "t", term, "b", batches, ":");
      while (e.payload.size() < bytes) e.payload += static_cast<char>('a' + e.payload.size() % 26);
      e.payload.resize(bytes);
      out.push_back(std::move(e));
    }
    switch (op.flaw) {
      case Flaw::kNone:
        break;
      case Flaw::kSkipIndex:
        for (LogEntry& e : out) e.index = e.index + 1;
        break;
      case Flaw::kRepeatIndex:
        for (LogEntry& e : out) e.index = e.index - 1;
        break;
      case Flaw::kHoleInBatch:
        out.back().index = out.back().index + 1;
        break;
      case Flaw::kTermBelow: {
        const uint64_t before = out.size() > 1 ? out[out.size() - 2].term.value()
                                : log.empty()  ? 0
                                               : log.back().term.value();
        if (before > 0) out.back().term = Term(before - 1);
        break;
      }
      case Flaw::kOversized:
        out.back().payload.resize(kMaxEntryBytes + 1, 'x');
        break;
    }
    return out;
  }

  // append()'s documented checks.
  bool valid(const std::vector<LogEntry>& batch) const {
    uint64_t term = log.empty() ? 0 : log.back().term.value();
    const uint64_t start = batch.front().index.value();
    if (start == 0 || (!log.empty() && start != last() + 1)) return false;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (batch[i].index.value() != start + i || batch[i].term.value() < term) return false;
      if (batch[i].payload.size() > kMaxEntryBytes) return false;
      term = batch[i].term.value();
    }
    return true;
  }

  void truncate(uint64_t from) {
    while (!log.empty() && log.back().index.value() >= from) log.pop_back();
  }
  void compact_to(uint64_t new_first) {
    while (!log.empty() && log.front().index.value() < new_first) log.erase(log.begin());
  }
};

std::vector<LogEntry> prefix(const std::vector<LogEntry>& log, size_t n) {
  return std::vector<LogEntry>(log.begin(), log.begin() + static_cast<ptrdiff_t>(n));
}

// "" if equal, else where `got` first differs from `want`.
std::string mismatch(const std::vector<LogEntry>& got, const std::vector<LogEntry>& want) {
  for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) {
    if (got[i] == want[i]) continue;
    return absl::StrCat("entry ", i, ": got index ", got[i].index.value(), " term ", got[i].term.value(), " ",
                        got[i].payload.size(), " bytes \"", got[i].payload.substr(0, 24), "\", want index ",
                        want[i].index.value(), " term ", want[i].term.value(), " ", want[i].payload.size(),
                        " bytes \"", want[i].payload.substr(0, 24), "\"");
  }
  if (got.size() == want.size()) return "";
  return absl::StrCat("got ", got.size(), " entries, want ", want.size());
}

// ---------------------------------------------------------------------- checks

std::vector<LogEntry> read_all(LogStore& store) {
  if (store.empty()) return {};
  absl::StatusOr<std::vector<LogEntry>> all = store.read(store.first_index(), store.last_index().next());
  if (!all.ok()) RC_FAIL(absl::StrCat("reading the whole log: ", all.status().ToString()));
  return *all;
}

// Bounds and terms, which the store answers from memory.
void check_bounds_and_terms(const LogStore& store, const Model& model) {
  RC_ASSERT(store.empty() == model.log.empty());
  RC_ASSERT(store.first_index().value() == model.first());
  RC_ASSERT(store.last_index().value() == model.last());
  const uint64_t from = model.first() > 2 ? model.first() - 2 : 0;
  for (uint64_t i = from; i <= model.last() + 2; ++i) {
    absl::StatusOr<Term> term = store.term_at(Index(i));
    if (model.log.empty() || i < model.first() || i > model.last()) {
      RC_ASSERT(term.status().code() == absl::StatusCode::kOutOfRange);
    } else {
      RC_ASSERT(term.ok());
      RC_ASSERT(term->value() == model.log[i - model.first()].term.value());
    }
  }
}

void check_agrees(LogStore& store, const Model& model) {
  check_bounds_and_terms(store, model);
  if (std::string diff = mismatch(read_all(store), model.log); !diff.empty()) RC_FAIL(diff);
}

// The segment files are the store's, packed greedily: a segment of two or
// more records fits in segment_bytes, and a segment is followed by another
// only because that one's first record did not fit. Returns their first indexes.
std::vector<uint64_t> check_segments(FileSystem& fs, const LogStore& store, uint64_t segment_bytes) {
  absl::StatusOr<std::vector<std::string>> names = fs.list(store.dir());
  RC_ASSERT(names.ok());
  RC_ASSERT(names->size() == store.segment_count());
  std::vector<uint64_t> firsts, sizes, first_records;
  for (const std::string& name : *names) {
    uint64_t first = 0;
    RC_ASSERT(name.size() > 4 && absl::SimpleAtoi(name.substr(4, 20), &first));
    RC_ASSERT(name == LogStore::segment_name(Index(first)));
    const std::string data = testing::read_file(fs, join_path(store.dir(), name));
    RC_ASSERT(data.size() >= LogStore::kRecordHeaderBytes);
    firsts.push_back(first);
    sizes.push_back(data.size());
    first_records.push_back(LogStore::kRecordHeaderBytes + get_u32(data.data() + 1));
  }
  if (!store.empty()) RC_ASSERT(firsts.front() == store.first_index().value());
  for (size_t i = 0; i < firsts.size(); ++i) {
    const uint64_t end = i + 1 < firsts.size() ? firsts[i + 1] : store.last_index().value() + 1;
    RC_ASSERT(end > firsts[i]);
    if (end - firsts[i] > 1) RC_ASSERT(sizes[i] <= segment_bytes);
    if (i + 1 < firsts.size()) RC_ASSERT(sizes[i] + first_records[i + 1] > segment_bytes);
  }
  return firsts;
}

// The documented effect of compact_prefix(up_to): whole segments of entries
// <= up_to go, never the last one. Applies the store's new first index to
// the model.
void check_compaction(const LogStore& store, uint64_t up_to, Model& model) {
  const uint64_t first = store.first_index().value();
  if (model.log.empty()) {
    RC_ASSERT(store.empty());
    return;
  }
  RC_ASSERT(first >= model.first());
  RC_ASSERT(first <= std::max(up_to + 1, model.first()));
  RC_ASSERT(first <= model.last());
  model.compact_to(first);
}

absl::StatusCode read_code(const Model& model, uint64_t from, uint64_t to) {
  if (from == to) return absl::StatusCode::kOk;
  if (model.log.empty() || from > to || from < model.first() || to > model.last() + 1) {
    return absl::StatusCode::kOutOfRange;
  }
  return absl::StatusCode::kOk;
}

// [from, to) for a kRead op; sometimes empty or reversed.
std::pair<uint64_t, uint64_t> read_range(const Model& model, const Op& op) {
  const uint64_t from = model.near(op.a);
  const uint64_t length = op.b % (model.log.size() + 3);
  return {from, length == 0 && from > 0 ? from - 1 : from + length - (length > 0 ? 1 : 0)};
}

void check_read(const Model& model, uint64_t from, uint64_t to, const absl::StatusOr<std::vector<LogEntry>>& got) {
  const absl::StatusCode want = read_code(model, from, to);
  RC_ASSERT(got.status().code() == want);
  if (want != absl::StatusCode::kOk) return;
  const std::vector<LogEntry> expected =
      from == to ? std::vector<LogEntry>{}
                 : std::vector<LogEntry>(model.log.begin() + static_cast<ptrdiff_t>(from - model.first()),
                                         model.log.begin() + static_cast<ptrdiff_t>(to - model.first()));
  if (std::string diff = mismatch(*got, expected); !diff.empty()) RC_FAIL(absl::StrCat("read: ", diff));
}

// --------------------------------------------------------- model equivalence

LogStoreOptions options_with(uint64_t segment_bytes) {
  LogStoreOptions options;
  options.segment_bytes = segment_bytes;
  options.max_entry_bytes = kMaxEntryBytes;
  return options;
}

// Runs `op` (but kReopen, which is the caller's) on a store that must not
// fail except where documented.
void apply_op(LogStore& store, FileSystem& fs, const LogStoreOptions& options, const Op& op, Model& model) {
  switch (op.kind) {
    case Op::kAppend: {
      const std::vector<LogEntry> batch = model.batch(op);
      const absl::Status status = store.append(batch);
      if (!model.valid(batch)) {
        RC_ASSERT(status.code() == absl::StatusCode::kInvalidArgument);
        return;
      }
      RC_ASSERT(status.ok());
      model.log.insert(model.log.end(), batch.begin(), batch.end());
      return;
    }
    case Op::kTruncate: {
      const uint64_t from = model.near(op.a);
      const absl::Status status = store.truncate_suffix(Index(from));
      if (from == 0) {
        RC_ASSERT(status.code() == absl::StatusCode::kInvalidArgument);
        return;
      }
      RC_ASSERT(status.ok());
      model.truncate(from);
      return;
    }
    case Op::kCompact: {
      const uint64_t up_to = model.near(op.a);
      RC_ASSERT(store.compact_prefix(Index(up_to)).ok());
      check_compaction(store, up_to, model);
      // Nothing compact_prefix may remove is left: the first segment is the
      // last one or holds an entry above up_to.
      const std::vector<uint64_t> firsts = check_segments(fs, store, options.segment_bytes);
      if (firsts.size() > 1) RC_ASSERT(firsts[1] - 1 > up_to);
      return;
    }
    case Op::kRead: {
      const auto [from, to] = read_range(model, op);
      check_read(model, from, to, store.read(Index(from), Index(to)));
      return;
    }
    case Op::kReopen:
      break;
  }
}

std::unique_ptr<LogStore> open_store(FileSystem& fs, const std::string& dir, const LogStoreOptions& options) {
  absl::StatusOr<std::unique_ptr<LogStore>> store = LogStore::open(fs, dir, options);
  if (!store.ok()) RC_FAIL(absl::StrCat("open: ", store.status().ToString()));
  return std::move(*store);
}

template <typename Backend>
void check_model_equivalence(uint64_t segment_bytes, const std::vector<Op>& ops) {
  Backend backend;
  RC_ASSERT(!backend.root().empty());
  const std::string dir = backend.root() + "/log";
  const LogStoreOptions options = options_with(segment_bytes);
  std::unique_ptr<LogStore> store = open_store(backend.fs(), dir, options);
  Model model;
  size_t max_segments = 0;
  for (const Op& op : ops) {
    if (op.kind == Op::kReopen) {
      store.reset();
      store = open_store(backend.fs(), dir, options);
      const RecoveryReport& report = store->recovery_report();
      RC_ASSERT(!report.cut_tail.has_value());
      RC_ASSERT(report.removed_empty_segments.empty());
      RC_ASSERT(report.entries == model.log.size());
      RC_ASSERT(report.segments == store->segment_count());
    } else {
      apply_op(*store, backend.fs(), options, op, model);
    }
    check_agrees(*store, model);
    check_segments(backend.fs(), *store, segment_bytes);
    max_segments = std::max(max_segments, store->segment_count());
  }
  RC_CLASSIFY(max_segments >= 5, ">= 5 segments");
  RC_CLASSIFY(model.log.size() >= 30, ">= 30 entries at the end");
}

RC_GTEST_PROP(LogStoreProperties, ModelEquivalence, ()) {
  const auto segment_bytes = *rc::gen::inRange<uint64_t>(200, 2001);
  check_model_equivalence<testing::SimStoreBackend>(
      segment_bytes, *gen_ops(100, /*with_reopen=*/true));
}

// fsync on real disks is slow, and the case count is per binary: shorter sequences.
RC_GTEST_PROP(LogStoreProperties, ModelEquivalenceOnPosix, ()) {
  const auto segment_bytes = *rc::gen::inRange<uint64_t>(200, 2001);
  check_model_equivalence<testing::PosixStoreBackend>(segment_bytes, *gen_ops(12, /*with_reopen=*/true));
}

// -------------------------------------------------------------------- crashes

struct Lifetime {
  // File-system operations recovery gets before the process dies in it (and
  // the machine loses power); recovery then runs again.
  std::optional<uint8_t> dies_in_recovery;
  std::vector<Op> ops;  // no kReopen: every lifetime ends in a restart
  // File-system operations after recovery before the process dies.
  std::optional<uint16_t> dies_after;
  // Lose what is not durable (SimFileSystem::crash), or only restart the
  // process, which must not lose what it saw (recovery syncs it).
  bool machine_crash = true;
};

std::ostream& operator<<(std::ostream& os, const Lifetime& life) {
  os << "{";
  if (life.dies_in_recovery) os << "dies in recovery after " << int{*life.dies_in_recovery} << " fs ops; ";
  os << "ops:";
  for (const Op& op : life.ops) os << " " << op << ";";
  return os << " dies after " << (life.dies_after ? absl::StrCat(*life.dies_after, " fs ops") : "none")
            << ", then " << (life.machine_crash ? "machine crash" : "process restart") << "}";
}

template <typename T>
rc::Gen<std::optional<T>> gen_sometimes(size_t weight_none, size_t weight_some, T max) {
  return rc::gen::weightedOneOf<std::optional<T>>(
      {{weight_none, rc::gen::just(std::optional<T>())},
       {weight_some, rc::gen::map(rc::gen::inRange<T>(0, max), [](T n) { return std::optional<T>(n); })}});
}

rc::Gen<Lifetime> gen_lifetime() {
  return rc::gen::apply(
      [](std::optional<uint8_t> dies_in_recovery, std::vector<Op> ops, std::optional<uint16_t> dies_after,
         bool machine_crash) { return Lifetime{dies_in_recovery, std::move(ops), dies_after, machine_crash}; },
      gen_sometimes<uint8_t>(3, 1, 60), gen_ops(16, /*with_reopen=*/false), gen_sometimes<uint16_t>(1, 3, 60),
      rc::gen::weightedElement<bool>({{3, true}, {1, false}}));
}

// The operation that was running when the process died.
struct InFlight {
  Op::Kind kind = Op::kAppend;
  std::vector<LogEntry> batch;  // kAppend
  uint64_t argument = 0;        // kTruncate: from; kCompact: up_to
};

// Could a crash during `in_flight` (if any) leave `got` of the model's log?
std::string disallowed(const Model& model, const std::optional<InFlight>& in_flight,
                       const std::vector<LogEntry>& got) {
  const std::vector<LogEntry>& log = model.log;
  if (!in_flight) return mismatch(got, log);
  switch (in_flight->kind) {
    case Op::kAppend: {
      // The acknowledged log and a prefix of the batch.
      std::vector<LogEntry> with_batch = log;
      with_batch.insert(with_batch.end(), in_flight->batch.begin(), in_flight->batch.end());
      if (got.size() < log.size()) return absl::StrCat("lost acknowledged entries: ", mismatch(got, log));
      if (got.size() > with_batch.size()) return mismatch(got, with_batch);
      return mismatch(got, prefix(with_batch, got.size()));
    }
    case Op::kTruncate: {
      // A prefix of the old log holding every entry below the truncation point.
      Model kept = model;
      kept.truncate(in_flight->argument);
      if (got.size() < kept.log.size()) return absl::StrCat("lost entries below truncation: ", mismatch(got, kept.log));
      if (got.size() > log.size()) return mismatch(got, log);
      return mismatch(got, prefix(log, got.size()));
    }
    case Op::kCompact: {
      // A suffix of the old log holding the last entry and every one above up_to.
      if (got.empty() || got.size() > log.size()) return mismatch(got, log);
      if (got.front().index.value() > std::max(in_flight->argument + 1, model.first())) {
        return absl::StrCat("compaction removed entry ", got.front().index.value() - 1, " above up_to ",
                            in_flight->argument);
      }
      return mismatch(got, std::vector<LogEntry>(log.end() - static_cast<ptrdiff_t>(got.size()), log.end()));
    }
    case Op::kRead:
    case Op::kReopen:
      break;
  }
  return "unexpected operation in flight";
}

constexpr const char* kCrashDir = "/reef/log";

// One log on a SimFileSystem through a sequence of process lifetimes.
class CrashRun {
 public:
  CrashRun(uint64_t seed, bool torn_writes, bool eager_names, uint64_t segment_bytes)
      : sim_(seed), eager_names_(eager_names), options_(options_with(segment_bytes)) {
    sim_.set_faults(sim::SimFaults{.torn_writes = torn_writes});
  }

  void live(const Lifetime& life) {
    if (life.dies_in_recovery) {
      CrashPointFileSystem fs(&sim_, *life.dies_in_recovery, eager_names_);
      if (recover(fs) == nullptr) sim_.crash();
    }
    {
      CrashPointFileSystem fs(&sim_, kNever, eager_names_);
      RC_ASSERT(recover(fs) != nullptr);
    }
    // Recovery changed nothing this time, so the next one costs what this
    // one does: the lifetime can die a given number of operations into its ops.
    uint64_t recovery_ops = 0;
    {
      CrashPointFileSystem counting(&sim_);
      std::unique_ptr<LogStore> store = open_store(counting, kCrashDir, options_);
      recovery_ops = counting.operations();
    }
    CrashPointFileSystem fs(&sim_, life.dies_after ? recovery_ops + *life.dies_after : kNever, eager_names_);
    std::unique_ptr<LogStore> store = open_store(fs, kCrashDir, options_);
    check_bounds_and_terms(*store, model_);
    for (const Op& op : life.ops) {
      if (!survive(*store, fs, op)) break;
      check_bounds_and_terms(*store, model_);
    }
    store.reset();
    if (life.machine_crash) sim_.crash();
  }

  // The final restart; then tags what the run went through.
  void finish() {
    CrashPointFileSystem fs(&sim_);
    RC_ASSERT(recover(fs) != nullptr);
    if (sim_.stats().torn_writes > 0) events_.insert("torn write");
    for (const std::string& event : events_) RC_TAG(event);
  }

 private:
  static constexpr uint64_t kNever = std::numeric_limits<uint64_t>::max();

  // Opens the log after a restart and checks what recovery kept against the
  // model; null if the process died during recovery (then whatever was in
  // flight stays uncertain until the next restart).
  std::unique_ptr<LogStore> recover(CrashPointFileSystem& fs) {
    absl::StatusOr<std::unique_ptr<LogStore>> opened = LogStore::open(fs, kCrashDir, options_);
    if (!opened.ok()) {
      if (!fs.crashed()) RC_FAIL(absl::StrCat("recovery: ", opened.status().ToString()));
      events_.insert("died in recovery");
      return nullptr;
    }
    // Read through a read-only store on the simulator itself, so that
    // checking does not use up the lifetime's file-system operations.
    absl::StatusOr<std::unique_ptr<LogStore>> reader = LogStore::open_read_only(sim_, kCrashDir, options_);
    if (!reader.ok()) RC_FAIL(absl::StrCat("read-only open after recovery: ", reader.status().ToString()));
    const std::vector<LogEntry> got = read_all(**reader);
    if (std::string why = disallowed(model_, in_flight_, got); !why.empty()) RC_FAIL("recovered log: " + why);
    if (in_flight_ && in_flight_->kind == Op::kAppend && got.size() > model_.log.size()) {
      events_.insert("kept part of an in-flight append");
    }
    if ((*opened)->recovery_report().cut_tail) events_.insert("cut a torn tail");
    model_.log = got;
    in_flight_.reset();
    check_bounds_and_terms(**opened, model_);
    return std::move(*opened);
  }

  // Runs `op`; false if the process died during it (or had died before).
  bool survive(LogStore& store, const CrashPointFileSystem& fs, const Op& op) {
    if (fs.crashed()) return false;
    absl::Status status;
    switch (op.kind) {
      case Op::kAppend: {
        const std::vector<LogEntry> batch = model_.batch(op);
        if (!model_.valid(batch)) {
          RC_ASSERT(store.append(batch).code() == absl::StatusCode::kInvalidArgument);
          return true;
        }
        in_flight_ = InFlight{Op::kAppend, batch, 0};
        status = store.append(batch);
        if (status.ok()) model_.log.insert(model_.log.end(), batch.begin(), batch.end());
        break;
      }
      case Op::kTruncate: {
        const uint64_t from = model_.near(op.a);
        if (from == 0) {
          RC_ASSERT(store.truncate_suffix(Index(from)).code() == absl::StatusCode::kInvalidArgument);
          return true;
        }
        in_flight_ = InFlight{Op::kTruncate, {}, from};
        status = store.truncate_suffix(Index(from));
        if (status.ok()) model_.truncate(from);
        break;
      }
      case Op::kCompact: {
        const uint64_t up_to = model_.near(op.a);
        in_flight_ = InFlight{Op::kCompact, {}, up_to};
        status = store.compact_prefix(Index(up_to));
        if (status.ok()) check_compaction(store, up_to, model_);
        break;
      }
      case Op::kRead: {
        const auto [from, to] = read_range(model_, op);
        absl::StatusOr<std::vector<LogEntry>> got = store.read(Index(from), Index(to));
        if (!got.ok() && fs.crashed()) return false;
        check_read(model_, from, to, got);
        return true;
      }
      case Op::kReopen:
        RC_FAIL("kReopen inside a lifetime");
    }
    if (status.ok()) {
      in_flight_.reset();
      return true;
    }
    // The only failure a disk without injected errors gives.
    if (!fs.crashed()) RC_FAIL(absl::StrCat("operation failed: ", status.ToString()));
    events_.insert(op.kind == Op::kAppend     ? "died in append"
                   : op.kind == Op::kTruncate ? "died in truncate"
                                              : "died in compact");
    return false;
  }

  sim::SimFileSystem sim_;
  bool eager_names_;
  LogStoreOptions options_;
  Model model_;
  std::optional<InFlight> in_flight_;
  std::set<std::string> events_;
};

RC_GTEST_PROP(LogStoreProperties, CrashesRecoverWhatWasAcknowledged, ()) {
  const auto seed = *rc::gen::arbitrary<uint64_t>();
  const auto torn_writes = *rc::gen::weightedElement<bool>({{3, true}, {1, false}});
  const auto eager_names = *rc::gen::arbitrary<bool>();
  const auto segment_bytes = *rc::gen::inRange<uint64_t>(200, 2001);
  auto lives = *rc::gen::nonEmpty(rc::gen::container<std::vector<Lifetime>>(gen_lifetime()));
  if (lives.size() > 8) lives.resize(8);
  CrashRun run(seed, torn_writes, eager_names, segment_bytes);
  for (const Lifetime& life : lives) run.live(life);
  run.finish();
}

// ------------------------------------------------------------------ bit flips

// Offset of every record in a segment's bytes, by their length fields.
// Offsets of the records of an undamaged segment, up to its unused
// (preallocated, zero) space, and where that space starts.
struct SegmentLayout {
  std::vector<uint64_t> offsets;
  uint64_t records_end = 0;
};
SegmentLayout layout_of(const std::string& data) {
  SegmentLayout layout;
  uint64_t at = 0;
  while (at + LogStore::kRecordHeaderBytes <= data.size() && data[at] != '\0') {
    layout.offsets.push_back(at);
    at += LogStore::kRecordHeaderBytes + get_u32(data.data() + at + 1);
  }
  layout.records_end = at;
  return layout;
}

RC_GTEST_PROP(LogStoreProperties, FlippedBitsAreNeverServed, ()) {
  const LogStoreOptions options = options_with(*rc::gen::inRange<uint64_t>(200, 2001));
  std::vector<Op> ops = *gen_ops(30, /*with_reopen=*/true);
  ops.push_back(Op{Op::kAppend, {{40, 0}}, Flaw::kNone, 1, 0, 0});  // something to damage
  sim::SimFileSystem sim(1);
  const std::string dir = kCrashDir;
  std::unique_ptr<LogStore> store = open_store(sim, dir, options);
  Model model;
  for (const Op& op : ops) {
    if (op.kind == Op::kReopen) {
      store.reset();
      store = open_store(sim, dir, options);
    } else {
      apply_op(*store, sim, options, op, model);
    }
  }
  const std::vector<std::string> names = *sim.list(dir);
  const size_t file = *rc::gen::inRange<size_t>(0, names.size());
  const std::string path = join_path(dir, names[file]);
  const std::string data = *sim.contents(path);
  const SegmentLayout layout = layout_of(data);
  if (layout.records_end < data.size() && *rc::gen::arbitrary<bool>()) {
    // Damage to the unused space of the last segment touches no record:
    // everything is still served, and reopening cuts the garbage as a tail.
    RC_TAG("flip in unused space");
    RC_ASSERT(file + 1 == names.size());
    const uint64_t offset = *rc::gen::inRange<uint64_t>(layout.records_end, data.size());
    RC_ASSERT(sim.flip_bit(path, offset, *rc::gen::inRange(0, 8)).ok());
    if (std::string diff = mismatch(read_all(*store), model.log); !diff.empty()) RC_FAIL(diff);
    store.reset();
    absl::StatusOr<std::unique_ptr<LogStore>> reopened = LogStore::open(sim, dir, options);
    RC_ASSERT(reopened.ok());
    RC_ASSERT((*reopened)->recovery_report().cut_tail.has_value());
    if (std::string diff = mismatch(read_all(**reopened), model.log); !diff.empty()) RC_FAIL(diff);
    return;
  }
  const uint64_t offset = *rc::gen::inRange<uint64_t>(0, layout.records_end);
  RC_ASSERT(sim.flip_bit(path, offset, *rc::gen::inRange(0, 8)).ok());

  // read() verifies every record again.
  RC_ASSERT(store->read(store->first_index(), store->last_index().next()).status().code() ==
            absl::StatusCode::kDataLoss);
  store.reset();
  absl::StatusOr<std::unique_ptr<LogStore>> reopened = LogStore::open(sim, dir, options);
  if (!reopened.ok()) {
    RC_ASSERT(reopened.status().code() == absl::StatusCode::kDataLoss);
    return;
  }
  // Only damage to the final record may pass for a torn write.
  RC_TAG("cut as a torn tail");
  RC_ASSERT(file + 1 == names.size());
  RC_ASSERT(offset >= layout.offsets.back());
  if (std::string diff = mismatch(read_all(**reopened), prefix(model.log, model.log.size() - 1)); !diff.empty()) {
    RC_FAIL(diff);
  }
}

}  // namespace
}  // namespace reef::storage
