#include "raft/driver/request_table.h"

#include <utility>

#include "raft/core/random.h"

namespace reef::raft {
namespace {

// Takes the element at `key` out of `map`, if there is one.
template <typename Map>
std::optional<typename Map::mapped_type> take(Map& map, uint64_t key) {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  typename Map::mapped_type value = std::move(it->second);
  map.erase(it);
  return value;
}

Waiter& waiter_of(Waiter& waiter) { return waiter; }
Waiter& waiter_of(RequestTable::Placed& placed) { return placed.waiter; }

// Moves the callback of every element of `map` whose deadline passed into
// `expired`, and erases those elements.
template <typename Map>
void take_expired_from(Map& map, uint64_t now_ms, RequestTable::Expired& expired) {
  for (auto it = map.begin(); it != map.end();) {
    Waiter& waiter = waiter_of(it->second);
    if (waiter.request.deadline_ms > now_ms) {
      ++it;
      continue;
    }
    (is_read(waiter.request.kind) ? expired.reads : expired.writes).push_back(std::move(waiter.done));
    it = map.erase(it);
  }
}

}  // namespace

RequestTable::RequestTable(uint64_t seed) {
  uint64_t state = seed ^ 0x6e6f64652d696473ULL;  // "node-ids"
  next_read_id_ = (splitmix64(state) >> 2) + 1;
  next_forward_id_ = (splitmix64(state) >> 2) + 1;
}

ProposalId RequestTable::add_proposing(Waiter waiter) {
  const uint64_t id = next_proposal_id_++;
  proposing_.emplace(id, std::move(waiter));
  return ProposalId(id);
}

std::optional<Waiter> RequestTable::take_proposing(ProposalId id) { return take(proposing_, id.value()); }

void RequestTable::add_placed(Index index, Term term, Waiter waiter) {
  placed_.emplace(index.value(), Placed{term, std::move(waiter)});
}

std::optional<RequestTable::Placed> RequestTable::take_placed(Index index) { return take(placed_, index.value()); }

std::vector<Waiter> RequestTable::take_placed_through(Index index) {
  std::vector<Waiter> taken;
  while (!placed_.empty() && placed_.begin()->first <= index.value()) {
    taken.push_back(std::move(placed_.begin()->second.waiter));
    placed_.erase(placed_.begin());
  }
  return taken;
}

ReadId RequestTable::add_read_index(Waiter waiter) {
  const uint64_t id = next_read_id_++;
  read_indexes_.emplace(id, std::move(waiter));
  return ReadId(id);
}

std::optional<Waiter> RequestTable::take_read_index(ReadId id) { return take(read_indexes_, id.value()); }

void RequestTable::add_waiting_for_applied(Index needed, Waiter waiter) {
  waiting_reads_.emplace(needed.value(), std::move(waiter));
}

std::optional<Waiter> RequestTable::take_servable(Index applied) {
  if (waiting_reads_.empty() || waiting_reads_.begin()->first > applied.value()) return std::nullopt;
  Waiter waiter = std::move(waiting_reads_.begin()->second);
  waiting_reads_.erase(waiting_reads_.begin());
  return waiter;
}

uint64_t RequestTable::add_forwarded(Waiter waiter) {
  const uint64_t id = next_forward_id_++;
  forwarded_.emplace(id, std::move(waiter));
  return id;
}

std::optional<Waiter> RequestTable::take_forwarded(uint64_t id) { return take(forwarded_, id); }

RequestTable::Expired RequestTable::take_expired(uint64_t now_ms) {
  Expired expired;
  take_expired_from(proposing_, now_ms, expired);
  take_expired_from(placed_, now_ms, expired);
  take_expired_from(read_indexes_, now_ms, expired);
  take_expired_from(waiting_reads_, now_ms, expired);
  take_expired_from(forwarded_, now_ms, expired);
  return expired;
}

std::vector<Waiter> RequestTable::take_all() {
  std::vector<Waiter> taken;
  for (auto& [_, w] : proposing_) taken.push_back(std::move(w));
  for (auto& [_, p] : placed_) taken.push_back(std::move(p.waiter));
  for (auto& [_, w] : read_indexes_) taken.push_back(std::move(w));
  for (auto& [_, w] : waiting_reads_) taken.push_back(std::move(w));
  for (auto& [_, w] : forwarded_) taken.push_back(std::move(w));
  proposing_.clear();
  placed_.clear();
  read_indexes_.clear();
  waiting_reads_.clear();
  forwarded_.clear();
  return taken;
}

uint64_t RequestTable::size() const {
  return proposing_.size() + placed_.size() + read_indexes_.size() + waiting_reads_.size() + forwarded_.size();
}

}  // namespace reef::raft
