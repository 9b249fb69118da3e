// Strong types for the three numbers Raft juggles: terms, log indexes and
// node ids. They are all 64-bit integers underneath; giving each its own type
// makes `term_at(index)` impossible to call with a term, and a NodeId
// impossible to compare with an Index.
#pragma once

#include <compare>
#include <cstdint>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reef::raft {

// A 64-bit identifier without arithmetic.
template <typename Tag>
class StrongId {
 public:
  constexpr StrongId() = default;
  constexpr explicit StrongId(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }

  friend constexpr auto operator<=>(StrongId, StrongId) = default;

  template <typename H>
  friend H AbslHashValue(H h, StrongId id) {
    return H::combine(std::move(h), id.value_);
  }

 private:
  uint64_t value_ = 0;
};

// A 64-bit counter: ordered, and moved forward or back by plain counts.
// Subtracting two counters gives a plain count, never a counter.
template <typename Tag>
class StrongCounter {
 public:
  constexpr StrongCounter() = default;
  constexpr explicit StrongCounter(uint64_t value) : value_(value) {}

  constexpr uint64_t value() const { return value_; }
  constexpr StrongCounter next() const { return StrongCounter(value_ + 1); }
  constexpr StrongCounter prev() const { return StrongCounter(value_ - 1); }

  friend constexpr auto operator<=>(StrongCounter, StrongCounter) = default;
  friend constexpr StrongCounter operator+(StrongCounter a, uint64_t n) {
    return StrongCounter(a.value_ + n);
  }
  friend constexpr StrongCounter operator-(StrongCounter a, uint64_t n) {
    return StrongCounter(a.value_ - n);
  }
  // Number of positions from b up to a; requires b <= a.
  friend constexpr uint64_t distance(StrongCounter b, StrongCounter a) { return a.value_ - b.value_; }

  template <typename H>
  friend H AbslHashValue(H h, StrongCounter c) {
    return H::combine(std::move(h), c.value_);
  }

 private:
  uint64_t value_ = 0;
};

struct TermTag {};
struct IndexTag {};
struct NodeIdTag {};

// A Raft term (thesis §3.3). Term 0 is "before any election".
using Term = StrongCounter<TermTag>;
// A position in the Raft log. Index 0 is the empty log's sentinel; the first
// real entry has index 1.
using Index = StrongCounter<IndexTag>;
// A node's identity in the cluster. 0 is reserved and never a valid member.
using NodeId = StrongId<NodeIdTag>;

// Identifiers the caller attaches to requests so it can match results.
struct ProposalIdTag {};
struct ReadIdTag {};
using ProposalId = StrongId<ProposalIdTag>;
using ReadId = StrongId<ReadIdTag>;

template <typename Tag>
std::string to_string(StrongId<Tag> id) {
  return absl::StrCat(id.value());
}
template <typename Tag>
std::string to_string(StrongCounter<Tag> c) {
  return absl::StrCat(c.value());
}

}  // namespace reef::raft
