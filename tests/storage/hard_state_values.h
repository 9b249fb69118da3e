// HardState literals for the storage suites: hs(term, vote, commit).
#pragma once

#include <cstdint>
#include <optional>

#include "raft/core/state.h"

namespace reef::storage::testing {

inline raft::HardState hs(uint64_t term, std::optional<uint64_t> vote, uint64_t commit) {
  raft::HardState s;
  s.term = raft::Term(term);
  if (vote) s.vote = raft::NodeId(*vote);
  s.commit = raft::Index(commit);
  return s;
}

}  // namespace reef::storage::testing
