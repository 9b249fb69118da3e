// Linearizability checker for register-per-key histories (sim/history.h).
//
// A history is linearizable if every operation can be given a point in time
// between its invocation and its completion such that, taken in that order,
// the operations are a legal sequential execution of registers that start
// absent. Registers are independent objects, so the history is linearizable
// iff each key's sub-history is (P-compositionality, Herlihy & Wing 1990):
// each key is checked on its own, in key order.
//
// Per key: Wing & Gong's search with Lowe's memoization ("Testing for
// linearizability", Lowe 2017; the Knossos and Porcupine approach). The
// invocations and completions form one list in time order; at each step the
// search linearizes one operation invoked before the earliest completion of
// any operation not yet linearized (a "minimal" operation), applies it to
// the register, and backtracks when no minimal operation fits. A
// configuration (set of linearized operations, register value) reached a
// second time is skipped: its continuations were all explored already.
// The search is a loop over an explicit stack, never recursion, and tries
// candidates in list order, so it is deterministic.
//
// Outcomes:
//   kOk       must be linearized between invoke and completion.
//   kFailed   never took effect: left out.
//   kUnknown  a write or CAS may have taken effect at any point after its
//             invocation, or never: its completion is taken as +infinity,
//             and the search succeeds once every kOk operation is linearized,
//             so unknown operations may stay unlinearized. An unknown read
//             tells nothing: left out.
// Equal times count as concurrent (an invocation at t may linearize before a
// completion at t), so ties never produce a false violation.
//
// Unknown operations are what makes the search expensive (they stay minimal
// forever), so two kinds of steps that can never be needed are not taken:
//   - an unknown CAS whose compare fails: it changes nothing, so linearizing
//     it is the same as leaving it out;
//   - a write directly after an unknown operation: it overwrites that
//     operation's effect before anyone saw it, so the same continuation
//     exists with the unknown operation left out.
// The second rule depends on the last step, so that fact is part of the
// memoized configuration. Any linearization with the fewest operations
// contains neither step, so skipping them loses no linearization.
//
// The search is bounded by a budget of explored configurations; when it runs
// out the verdict is kUnknown, never a guess. A configuration's set of
// linearized operations is memoized as a 128-bit Zobrist fingerprint (O(1)
// per step at any history length; a false match has probability 2^-128 per
// pair), so memory is about 40 bytes per explored configuration.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/history.h"

namespace reef::sim {

struct CheckBudget {
  uint64_t max_states_per_key = 500'000;
  uint64_t max_states_total = 2'000'000;
};

enum class LinearizabilityVerdict { kLinearizable, kViolation, kUnknown };
std::string_view verdict_name(LinearizabilityVerdict verdict);

struct LinearizabilityResult {
  LinearizabilityVerdict verdict = LinearizabilityVerdict::kLinearizable;
  // kViolation: the key that is not linearizable. kUnknown: the first key
  // the budget did not suffice for. Empty when linearizable.
  std::string key;
  // For a violation: the longest linearizable prefix of the key's operations
  // and the operations that could not extend it. For kUnknown: where the
  // budget ran out. For kLinearizable: a one-line summary.
  std::string explanation;
  uint64_t states_explored = 0;  // over all keys checked
};

LinearizabilityResult check_linearizability(const std::vector<Operation>& history,
                                            const CheckBudget& budget);

}  // namespace reef::sim
