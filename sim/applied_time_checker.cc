#include "sim/applied_time_checker.h"

#include <iterator>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reef::sim {

void AppliedTimeChecker::observe(raft::NodeId node, raft::Index index, int64_t now_ms) {
  if (!ok()) return;
  auto [it, inserted] = seen_.try_emplace(index.value(), Seen{node, now_ms});
  if (!inserted) {
    if (it->second.now_ms != now_ms) {
      fail(absl::StrCat("state machine time differs between replicas: node ", node.value(), " applied index ",
                        index.value(), " at ", now_ms, " ms, node ", it->second.node.value(), " at ",
                        it->second.now_ms, " ms"));
    }
    return;
  }
  if (it != seen_.begin()) {
    const auto& [earlier_index, earlier] = *std::prev(it);
    if (earlier.now_ms > now_ms) {
      fail(absl::StrCat("state machine time went back: index ", index.value(), " applied at ", now_ms,
                        " ms on node ", node.value(), ", but earlier index ", earlier_index, " at ", earlier.now_ms,
                        " ms on node ", earlier.node.value()));
      return;
    }
  }
  if (const auto next = std::next(it); next != seen_.end() && next->second.now_ms < now_ms) {
    fail(absl::StrCat("state machine time went back: index ", next->first, " applied at ", next->second.now_ms,
                      " ms on node ", next->second.node.value(), ", but earlier index ", index.value(), " at ",
                      now_ms, " ms on node ", node.value()));
  }
}

void AppliedTimeChecker::fail(std::string what) {
  if (!violation_) violation_ = std::move(what);
}

}  // namespace reef::sim
