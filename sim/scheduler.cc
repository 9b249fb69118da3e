#include "sim/scheduler.h"

#include "raft/core/assert.h"
#include "raft/core/random.h"

namespace reef::sim {

void Scheduler::schedule_at(uint64_t time_us, std::string label, Action action) {
  REEF_ASSERT(time_us >= now_us_, "event '", label, "' scheduled in the past: ", time_us, " < ", now_us_);
  queue_.emplace(std::make_pair(time_us, next_sequence_++), Event{std::move(label), std::move(action)});
}

bool Scheduler::run_next() {
  if (queue_.empty()) return false;
  auto it = queue_.begin();
  now_us_ = it->first.first;
  Event event = std::move(it->second);
  queue_.erase(it);
  ++events_run_;
  note(now_us_);
  note(event.label);
  if (trace_) trace_(now_us_, event.label);
  event.action();
  return true;
}

void Scheduler::run_until(uint64_t time_us) {
  while (!queue_.empty() && queue_.begin()->first.first <= time_us) run_next();
  if (time_us > now_us_) now_us_ = time_us;
}

void Scheduler::note(uint64_t value) {
  uint64_t state = hash_ ^ value;
  hash_ = raft::splitmix64(state);
}

void Scheduler::note(std::string_view bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  note(h ^ bytes.size());
}

}  // namespace reef::sim
