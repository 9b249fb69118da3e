// Scheduler: the simulated world's only thread of control and only clock.
//
// Events run one at a time in (time, insertion order): two events at the same
// microsecond run in the order they were scheduled, so a run is a pure
// function of its seed. Every event folds its time and label (and whatever
// the caller adds with note()) into a running trace hash; two runs of the
// same seed must end with the same hash, on every machine (DESIGN.md §6).
//
// There is no cancel: an event that became pointless (a timer of a node that
// crashed meanwhile) checks a generation number when it runs and does nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "absl/functional/any_invocable.h"

namespace reef::sim {

class Scheduler {
 public:
  using Action = absl::AnyInvocable<void()>;
  // Called for every event run, before the action (for --trace).
  using TraceSink = std::function<void(uint64_t time_us, std::string_view label)>;

  uint64_t now_us() const { return now_us_; }
  // At `time_us` (not before now).
  void schedule_at(uint64_t time_us, std::string label, Action action);
  void schedule_after(uint64_t delay_us, std::string label, Action action) {
    schedule_at(now_us_ + delay_us, std::move(label), std::move(action));
  }

  // Runs the earliest event; false if there is none.
  bool run_next();
  // Runs every event up to and including `time_us`, then sets the time to it.
  void run_until(uint64_t time_us);

  // Folds a value into the trace hash (message contents, results).
  void note(uint64_t value);
  void note(std::string_view bytes);
  uint64_t trace_hash() const { return hash_; }
  uint64_t events_run() const { return events_run_; }
  size_t pending() const { return queue_.size(); }
  void set_trace_sink(TraceSink sink) { trace_ = std::move(sink); }

 private:
  struct Event {
    std::string label;
    Action action;
  };
  std::map<std::pair<uint64_t, uint64_t>, Event> queue_;  // (time, sequence)
  uint64_t now_us_ = 0;
  uint64_t next_sequence_ = 0;
  uint64_t events_run_ = 0;
  uint64_t hash_ = 0x9e3779b97f4a7c15ULL;
  TraceSink trace_;
};

}  // namespace reef::sim
