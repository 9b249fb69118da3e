#include "raft/driver/node_freshness.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace reef::raft {
namespace {

constexpr char kStaleReadPayloadUrl[] = "reefdb.dev/raft/stale-read";

}  // namespace

absl::Status stale_read_error(std::string_view why) {
  absl::Status status = absl::FailedPreconditionError(absl::StrCat("stale read: ", std::string(why)));
  status.SetPayload(kStaleReadPayloadUrl, absl::Cord());
  return status;
}

bool is_stale_read(const absl::Status& status) { return status.GetPayload(kStaleReadPayloadUrl).has_value(); }

absl::Status check_freshness(const FreshnessState& state, uint64_t now_ms, FreshnessBound bound) {
  const uint64_t limit = bound.max_staleness_ms;
  if (!state.leader_contact_ms) return stale_read_error("no contact with a leader in the current term");
  // A contact "in the future" cannot happen with one monotonic clock; the
  // guard keeps the subtraction honest if it ever does.
  const uint64_t contact_age = now_ms - std::min(now_ms, *state.leader_contact_ms);
  if (contact_age > limit) {
    return stale_read_error(absl::StrCat("last contact with the leader was ", contact_age, " ms ago, freshness is ",
                                         limit, " ms"));
  }
  if (!bound.strict || state.applied >= state.known_commit) return absl::OkStatus();
  if (!state.caught_up_ms) {
    return stale_read_error(absl::StrCat("applied index ", state.applied.value(), " is behind commit index ",
                                         state.known_commit.value(), " (freshness_strict)"));
  }
  const uint64_t behind_for = now_ms - std::min(now_ms, *state.caught_up_ms);
  if (behind_for > limit) {
    return stale_read_error(absl::StrCat("applied index ", state.applied.value(), " is behind commit index ",
                                         state.known_commit.value(), " and was last caught up ", behind_for,
                                         " ms ago, freshness is ", limit, " ms (freshness_strict)"));
  }
  return absl::OkStatus();
}

void LeaderContact::heard(NodeId from, Term term, uint64_t now_ms) {
  auto [it, inserted] = heard_.try_emplace(from, Heard{term, now_ms});
  if (inserted || term < it->second.term) return;
  it->second = Heard{term, std::max(now_ms, it->second.ms)};
}

void LeaderContact::commit_announced(Index commit) { announced_commit_ = std::max(announced_commit_, commit); }

void LeaderContact::note_applied(Index applied, Index own_commit, uint64_t now_ms) {
  if (applied >= known_commit(own_commit)) caught_up_ms_ = now_ms;
}

std::optional<uint64_t> LeaderContact::follower_contact(NodeId leader, Term term) const {
  auto it = heard_.find(leader);
  if (it == heard_.end() || it->second.term != term) return std::nullopt;
  return it->second.ms;
}

std::optional<uint64_t> LeaderContact::leader_contact(const Configuration& configuration, NodeId self, Term term,
                                                      uint64_t now_ms) const {
  // Times shifted by one so that 0 can mean "never" in the quorum math.
  const uint64_t shifted = configuration.committed_value([&](NodeId voter) -> std::optional<uint64_t> {
    if (voter == self) return now_ms + 1;
    const std::optional<uint64_t> ms = follower_contact(voter, term);
    if (!ms) return std::nullopt;
    return *ms + 1;
  });
  if (shifted == 0 || shifted == UINT64_MAX) return std::nullopt;
  return shifted - 1;
}

}  // namespace reef::raft
