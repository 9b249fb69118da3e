#include "sim/linearizability_checker.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::sim {
namespace {

constexpr uint64_t kNeverUs = std::numeric_limits<uint64_t>::max();
constexpr int32_t kAbsent = 0;         // register value id of "no value"
constexpr size_t kEvidenceLines = 10;  // operations listed per part of an explanation

// ---------------------------------------------------------------------------
// One key's sub-history, with values interned to small integers so that the
// register's state is an int32_t.

struct KeyOp {
  const Operation* source;
  bool unknown;          // outcome kUnknown: may stay unlinearized
  int32_t value;         // write, cas: the new value
  int32_t expected;      // cas
  int32_t observed;      // read: the value read
  uint64_t complete_us;  // kNeverUs when unknown
};

struct KeyHistory {
  std::string key;
  std::vector<KeyOp> ops;           // by (invoke_us, id)
  std::vector<std::string> values;  // value id -> text; [kAbsent] unused
  size_t definite = 0;              // ops that must be linearized (outcome kOk)
};

// Failed operations never took effect and an unknown read observed nothing.
bool included(const Operation& op) {
  if (op.outcome == OpOutcome::kFailed) return false;
  return !(op.outcome == OpOutcome::kUnknown && op.kind == OpKind::kRead);
}

KeyHistory prepare_key(const std::string& key, std::vector<const Operation*> ops) {
  std::sort(ops.begin(), ops.end(), [](const Operation* a, const Operation* b) {
    return std::tie(a->invoke_us, a->id) < std::tie(b->invoke_us, b->id);
  });
  KeyHistory h;
  h.key = key;
  h.values.emplace_back();  // kAbsent
  std::unordered_map<std::string, int32_t> ids;  // looked up only, never iterated
  const auto intern = [&](const std::string& v) {
    const auto [it, inserted] = ids.try_emplace(v, static_cast<int32_t>(h.values.size()));
    if (inserted) h.values.push_back(v);
    return it->second;
  };
  for (const Operation* op : ops) {
    const bool unknown = op->outcome == OpOutcome::kUnknown;
    REEF_ASSERT(unknown || op->complete_us >= op->invoke_us, describe(*op));
    KeyOp k{op, unknown, kAbsent, kAbsent, kAbsent, unknown ? kNeverUs : op->complete_us};
    if (op->kind != OpKind::kRead) k.value = intern(op->value);
    if (op->kind == OpKind::kCas) k.expected = intern(op->expected);
    if (op->kind == OpKind::kRead && op->read_value) k.observed = intern(*op->read_value);
    h.definite += unknown ? 0 : 1;
    h.ops.push_back(k);
  }
  REEF_ASSERT(h.ops.size() < (1U << 30), "key ", key, " has ", h.ops.size(), " operations");
  return h;
}

// The register after `op` takes effect on `state`, or nullopt if it cannot.
std::optional<int32_t> apply(const KeyOp& op, int32_t state) {
  switch (op.source->kind) {
    case OpKind::kWrite:
      return op.value;
    case OpKind::kRead:
      if (op.observed != state) return std::nullopt;
      return state;
    case OpKind::kCas:
      // An unknown CAS is taken only where its compare succeeds: where it
      // fails it changes nothing, the same as leaving it out (file comment).
      if (op.unknown || op.source->cas_succeeded) {
        if (op.expected != state) return std::nullopt;
        return op.value;
      }
      if (op.expected == state) return std::nullopt;  // it saw another value
      return state;
  }
  REEF_UNREACHABLE("op kind ", static_cast<int>(op.source->kind));
}

// ---------------------------------------------------------------------------
// Wing & Gong's event list: invocations and completions in time order, as a
// doubly linked list over arrays so that linearizing an operation (lift) and
// undoing it (unlift) are O(1). Unknown operations have no completion event.

class EventList {
 public:
  explicit EventList(const std::vector<KeyOp>& ops);

  uint32_t first() const { return next_[kHead]; }
  uint32_t next(uint32_t event) const { return next_[event]; }
  bool is_end(uint32_t event) const { return event == tail_; }
  bool is_call(uint32_t event) const { return events_[event].call; }
  uint32_t op(uint32_t event) const { return events_[event].op; }
  uint32_t call_event(uint32_t op) const { return call_of_[op]; }

  // Takes op's events out of the list; unlift() must undo the latest lift().
  void lift(uint32_t op);
  void unlift(uint32_t op);

 private:
  static constexpr uint32_t kHead = 0;
  static constexpr uint32_t kNone = std::numeric_limits<uint32_t>::max();
  struct Event {
    uint32_t op;
    bool call;
  };

  void unlink(uint32_t event);
  void relink(uint32_t event);  // dancing links: prev_/next_ of `event` are kept

  std::vector<Event> events_;  // [kHead] and [tail_] are sentinels
  std::vector<uint32_t> next_;
  std::vector<uint32_t> prev_;
  std::vector<uint32_t> call_of_;    // op -> its invocation event
  std::vector<uint32_t> return_of_;  // op -> its completion event, or kNone
  uint32_t tail_ = 0;
};

EventList::EventList(const std::vector<KeyOp>& ops)
    : call_of_(ops.size(), kNone), return_of_(ops.size(), kNone) {
  struct Timed {
    uint64_t time_us;
    bool completion;  // invocations first at equal times: ties are concurrent
    uint32_t op;
    bool operator<(const Timed& o) const {
      return std::tie(time_us, completion, op) < std::tie(o.time_us, o.completion, o.op);
    }
  };
  std::vector<Timed> timed;
  for (uint32_t i = 0; i < ops.size(); ++i) {
    timed.push_back({ops[i].source->invoke_us, false, i});
    if (!ops[i].unknown) timed.push_back({ops[i].complete_us, true, i});
  }
  std::sort(timed.begin(), timed.end());
  events_.push_back({kNone, false});
  for (const Timed& t : timed) {
    (t.completion ? return_of_ : call_of_)[t.op] = static_cast<uint32_t>(events_.size());
    events_.push_back({t.op, !t.completion});
  }
  events_.push_back({kNone, false});
  tail_ = static_cast<uint32_t>(events_.size() - 1);
  for (uint32_t e = 0; e <= tail_; ++e) {
    next_.push_back(e == tail_ ? kNone : e + 1);
    prev_.push_back(e == kHead ? kNone : e - 1);
  }
}

void EventList::lift(uint32_t op) {
  unlink(call_of_[op]);
  if (return_of_[op] != kNone) unlink(return_of_[op]);
}

void EventList::unlift(uint32_t op) {
  if (return_of_[op] != kNone) relink(return_of_[op]);
  relink(call_of_[op]);
}

void EventList::unlink(uint32_t event) {
  REEF_ASSERT(event != kHead && event != tail_, "sentinel ", event);
  next_[prev_[event]] = next_[event];
  prev_[next_[event]] = prev_[event];
}

void EventList::relink(uint32_t event) {
  REEF_ASSERT(next_[prev_[event]] == next_[event], "relink out of order: event ", event);
  next_[prev_[event]] = event;
  prev_[next_[event]] = event;
}

// ---------------------------------------------------------------------------
// Memoized configurations (Lowe): the set of linearized operations, the
// register's value, and whether the last operation linearized was an unknown
// one (it decides which steps are taken next, see the file comment).
//
// The set is kept as a 128-bit Zobrist fingerprint: the XOR of two random
// words per linearized operation, updated in O(1) on every step and undo.
// An exact bitset would cost O(operations) to copy and hash at every step,
// and unknown operations (never completing, often never linearized) keep
// that bitset long for the whole search; with the fingerprint a step costs
// the same at the end of a long history as at its start. Two different sets
// share a fingerprint with probability 2^-128 per pair: far below any
// chance of this search ever meeting one.

struct Configuration {
  uint64_t set_low;
  uint64_t set_high;
  int32_t state;
  bool after_unknown;
  bool operator==(const Configuration&) const = default;
};

uint64_t mix(uint64_t h, uint64_t v) {  // splitmix64's finalizer over h ^ v
  uint64_t z = (h ^ v) + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

struct ConfigurationHash {
  size_t operator()(const Configuration& c) const {
    return static_cast<size_t>(mix(c.set_low ^ (c.set_high << 1),
                                   (static_cast<uint64_t>(static_cast<uint32_t>(c.state)) << 1) |
                                       (c.after_unknown ? 1 : 0)));
  }
};

class LinearizedSet {
 public:
  explicit LinearizedSet(size_t ops);
  // Toggles `op` in or out of the set (each is its own inverse).
  void insert(uint32_t op) { toggle(op); }
  void erase(uint32_t op) { toggle(op); }
  Configuration configuration(int32_t state, bool after_unknown) const {
    return Configuration{low_, high_, state, after_unknown};
  }

 private:
  void toggle(uint32_t op) {
    low_ ^= keys_[2 * op];
    high_ ^= keys_[2 * op + 1];
  }
  std::vector<uint64_t> keys_;  // two per operation, fixed: the search stays deterministic
  uint64_t low_ = 0;
  uint64_t high_ = 0;
};

LinearizedSet::LinearizedSet(size_t ops) : keys_(2 * ops) {
  uint64_t seed = 0x5eed'f00d'cafe'1234ULL;
  for (uint64_t& key : keys_) key = seed = mix(seed, 0x2545f4914f6cdd1dULL);
}

// ---------------------------------------------------------------------------
// The search over one key.

enum class SearchEnd { kLinearized, kNoLinearization, kOutOfBudget };

struct SearchResult {
  SearchEnd end = SearchEnd::kNoLinearization;
  uint64_t states = 0;            // configurations explored
  size_t deepest = 0;             // most operations linearized at once
  std::vector<uint32_t> capture;  // the first prefix of capture_depth ops, if asked
};

class Search {
 public:
  // capture_depth > 0: record the first linearized prefix of that length.
  Search(const KeyHistory& h, uint64_t max_states, size_t capture_depth);
  SearchResult run();

 private:
  enum class Try { kTaken, kRejected, kOutOfBudget };
  struct Frame {
    uint32_t op;
    int32_t state_before;
  };

  Try try_linearize(uint32_t op);
  void push(uint32_t op, int32_t state_after);
  uint32_t backtrack();  // returns the invocation event to resume after
  bool after_unknown() const { return !stack_.empty() && h_.ops[stack_.back().op].unknown; }
  SearchResult finish(SearchEnd end);

  const KeyHistory& h_;
  const uint64_t max_states_;
  const size_t capture_depth_;
  EventList events_;
  LinearizedSet linearized_;
  std::unordered_set<Configuration, ConfigurationHash> seen_;  // membership only
  std::vector<Frame> stack_;  // the linearization so far, in order
  int32_t state_ = kAbsent;
  size_t definite_left_;  // invariant: kOk ops not on stack_
  SearchResult result_;
};

Search::Search(const KeyHistory& h, uint64_t max_states, size_t capture_depth)
    : h_(h),
      max_states_(max_states),
      capture_depth_(capture_depth),
      events_(h.ops),
      linearized_(h.ops.size()),
      definite_left_(h.definite) {}

// Each turn takes a step (at most max_states_ of them), backtracks one (at
// most as many), or moves along the list, so the loop is bounded.
SearchResult Search::run() {
  if (definite_left_ == 0) return finish(SearchEnd::kLinearized);
  uint32_t event = events_.first();
  for (;;) {
    // Some kOk operation is left, so its completion is still ahead.
    REEF_ASSERT(!events_.is_end(event), "key ", h_.key, ": ", definite_left_, " ops left");
    if (!events_.is_call(event)) {
      // A completion: its operation had to be linearized before this point.
      if (stack_.empty()) return finish(SearchEnd::kNoLinearization);
      event = events_.next(backtrack());
      continue;
    }
    switch (try_linearize(events_.op(event))) {
      case Try::kTaken:
        if (definite_left_ == 0) return finish(SearchEnd::kLinearized);
        event = events_.first();
        break;
      case Try::kRejected:
        event = events_.next(event);
        break;
      case Try::kOutOfBudget:
        return finish(SearchEnd::kOutOfBudget);
    }
  }
}

Search::Try Search::try_linearize(uint32_t op_index) {
  const KeyOp& op = h_.ops[op_index];
  // A write right after an unknown operation hides it: leaving that one out
  // is the same, and that configuration is explored elsewhere.
  if (after_unknown() && op.source->kind == OpKind::kWrite) return Try::kRejected;
  const std::optional<int32_t> after = apply(op, state_);
  if (!after) return Try::kRejected;
  linearized_.insert(op_index);
  Configuration configuration = linearized_.configuration(*after, op.unknown);
  if (seen_.contains(configuration)) {
    linearized_.erase(op_index);
    return Try::kRejected;
  }
  if (result_.states == max_states_) {
    linearized_.erase(op_index);
    return Try::kOutOfBudget;
  }
  seen_.insert(std::move(configuration));
  ++result_.states;
  push(op_index, *after);
  return Try::kTaken;
}

void Search::push(uint32_t op_index, int32_t state_after) {
  stack_.push_back({op_index, state_});
  state_ = state_after;
  events_.lift(op_index);
  if (!h_.ops[op_index].unknown) --definite_left_;
  result_.deepest = std::max(result_.deepest, stack_.size());
  if (stack_.size() == capture_depth_ && result_.capture.empty()) {
    for (const Frame& f : stack_) result_.capture.push_back(f.op);
  }
}

uint32_t Search::backtrack() {
  const Frame frame = stack_.back();
  stack_.pop_back();
  events_.unlift(frame.op);
  linearized_.erase(frame.op);
  state_ = frame.state_before;
  if (!h_.ops[frame.op].unknown) ++definite_left_;
  return events_.call_event(frame.op);
}

SearchResult Search::finish(SearchEnd end) {
  result_.end = end;
  return std::move(result_);
}

// ---------------------------------------------------------------------------
// Explanations.

std::string quoted(const std::string& s) { return absl::StrCat("\"", absl::CEscape(s), "\""); }

std::string value_text(const KeyHistory& h, int32_t value) {
  return value == kAbsent ? "absent" : quoted(h.values[static_cast<size_t>(value)]);
}

// Why `op` cannot be linearized next, on a register holding `state`.
std::string why_not_next(const KeyHistory& h, const KeyOp& op, int32_t state) {
  const std::string holds = absl::StrCat("the register holds ", value_text(h, state));
  if (apply(op, state)) return "takes effect, but the rest then has no linearization";
  switch (op.source->kind) {
    case OpKind::kRead:
      return absl::StrCat("cannot be next: it read ", value_text(h, op.observed), " but ", holds);
    case OpKind::kCas:
      if (op.unknown) return absl::StrCat("its compare would fail (", holds, "): no effect");
      if (op.source->cas_succeeded) return absl::StrCat("cannot be next: its compare succeeded but ", holds);
      return absl::StrCat("cannot be next: its compare failed but ", holds);
    case OpKind::kWrite:
      break;
  }
  REEF_UNREACHABLE("a write always applies: ", describe(*op.source));
}

// The kOk operation that must be linearized soonest after `prefix`: every
// next step is an operation invoked before it completes.
size_t first_to_complete(const KeyHistory& h, const std::vector<bool>& in_prefix) {
  size_t best = h.ops.size();
  for (size_t i = 0; i < h.ops.size(); ++i) {
    if (in_prefix[i] || h.ops[i].unknown) continue;
    if (best == h.ops.size() || h.ops[i].complete_us < h.ops[best].complete_us) best = i;
  }
  REEF_ASSERT(best < h.ops.size(), "key ", h.key, ": the prefix linearizes every kOk op");
  return best;
}

std::string explain_violation(const KeyHistory& h, uint64_t states,
                              const std::vector<uint32_t>& prefix) {
  std::string out = absl::StrCat("key ", quoted(h.key), ": not linearizable: its ", h.ops.size(),
                                 " operations (", h.definite,
                                 " with a known outcome) have no linearization (", states,
                                 " configurations explored).\n");
  int32_t state = kAbsent;
  std::vector<bool> in_prefix(h.ops.size(), false);
  absl::StrAppend(&out, "The longest linearizable prefix has ", prefix.size(), " operations");
  if (prefix.size() > kEvidenceLines) absl::StrAppend(&out, "; the last ", kEvidenceLines);
  absl::StrAppend(&out, ":\n");
  for (size_t i = 0; i < prefix.size(); ++i) {
    const KeyOp& op = h.ops[prefix[i]];
    const std::optional<int32_t> after = apply(op, state);
    REEF_ASSERT(after.has_value(), "captured prefix does not apply: ", describe(*op.source));
    state = *after;
    in_prefix[prefix[i]] = true;
    if (i + kEvidenceLines >= prefix.size()) absl::StrAppend(&out, "  ", describe(*op.source), "\n");
  }
  const KeyOp& blocking = h.ops[first_to_complete(h, in_prefix)];
  absl::StrAppend(&out, "after which the register holds ", value_text(h, state),
                  ". No operation can come next; one must, before ", blocking.complete_us,
                  "us, when ", describe(*blocking.source), " completes. The candidates:\n");
  size_t listed = 0;
  for (size_t i = 0; i < h.ops.size(); ++i) {
    const KeyOp& op = h.ops[i];
    if (in_prefix[i] || op.source->invoke_us > blocking.complete_us) continue;
    if (++listed > kEvidenceLines) {
      absl::StrAppend(&out, "  ...\n");
      break;
    }
    absl::StrAppend(&out, "  ", describe(*op.source), ": ", why_not_next(h, op, state), "\n");
  }
  return out;
}

std::string explain_out_of_budget(const KeyHistory& h, const SearchResult& r) {
  return absl::StrCat("key ", quoted(h.key), ": undecided: gave up after ", r.states,
                      " configurations (its share of the budget); at most ", r.deepest, " of its ",
                      h.ops.size(), " operations were linearized at once. A larger CheckBudget may "
                      "decide it.");
}

// ---------------------------------------------------------------------------

struct KeyVerdict {
  LinearizabilityVerdict verdict;
  std::string explanation;
  uint64_t states;
};

KeyVerdict check_key(const KeyHistory& h, uint64_t max_states) {
  const SearchResult r = Search(h, max_states, /*capture_depth=*/0).run();
  switch (r.end) {
    case SearchEnd::kLinearized:
      return {LinearizabilityVerdict::kLinearizable, "", r.states};
    case SearchEnd::kOutOfBudget:
      return {LinearizabilityVerdict::kUnknown, explain_out_of_budget(h, r), r.states};
    case SearchEnd::kNoLinearization:
      break;
  }
  // The search is deterministic: replaying it finds the same deepest prefix,
  // recorded this time (copying it on every new depth would cost O(n^2)).
  std::vector<uint32_t> prefix;
  if (r.deepest > 0) prefix = Search(h, max_states, r.deepest).run().capture;
  REEF_ASSERT(prefix.size() == r.deepest, "replay of key ", h.key, " diverged");
  return {LinearizabilityVerdict::kViolation, explain_violation(h, r.states, prefix), r.states};
}

using OpsByKey = std::map<std::string, std::vector<const Operation*>>;  // in key order

OpsByKey group_by_key(const std::vector<Operation>& history) {
  OpsByKey by_key;
  for (const Operation& op : history) {
    if (included(op)) by_key[op.key].push_back(&op);
  }
  return by_key;
}

}  // namespace

std::string_view verdict_name(LinearizabilityVerdict verdict) {
  switch (verdict) {
    case LinearizabilityVerdict::kLinearizable:
      return "linearizable";
    case LinearizabilityVerdict::kViolation:
      return "violation";
    case LinearizabilityVerdict::kUnknown:
      return "unknown";
  }
  REEF_UNREACHABLE("verdict ", static_cast<int>(verdict));
}

LinearizabilityResult check_linearizability(const std::vector<Operation>& history,
                                            const CheckBudget& budget) {
  const OpsByKey by_key = group_by_key(history);
  LinearizabilityResult result;
  std::optional<LinearizabilityResult> undecided;  // the first key the budget did not decide
  size_t unchecked = 0;
  size_t checked_ops = 0;
  // Keys are independent, so a later key can still prove a violation after
  // an earlier one ran out of budget.
  for (const auto& [key, ops] : by_key) {
    const uint64_t left = budget.max_states_total - result.states_explored;
    if (left == 0) {
      ++unchecked;
      if (!undecided) undecided = {LinearizabilityVerdict::kUnknown, key, "", 0};
      continue;
    }
    const KeyVerdict v = check_key(prepare_key(key, ops), std::min(budget.max_states_per_key, left));
    result.states_explored += v.states;
    checked_ops += ops.size();
    if (v.verdict == LinearizabilityVerdict::kViolation) {
      return {v.verdict, key, v.explanation, result.states_explored};
    }
    if (v.verdict == LinearizabilityVerdict::kUnknown && !undecided) {
      undecided = {v.verdict, key, v.explanation, 0};
    }
  }
  if (undecided) {
    undecided->states_explored = result.states_explored;
    if (unchecked > 0) {
      absl::StrAppend(&undecided->explanation, undecided->explanation.empty() ? "" : " ", unchecked,
                      " keys were not checked: the total budget of ", budget.max_states_total,
                      " configurations ran out.");
    }
    return *std::move(undecided);
  }
  result.explanation = absl::StrCat(checked_ops, " operations over ", by_key.size(),
                                    " keys are linearizable (", result.states_explored,
                                    " configurations explored).");
  return result;
}

}  // namespace reef::sim
