#include "raft/core/state.h"

#include "absl/strings/str_cat.h"

namespace reef::raft {

std::string describe(const HardState& state) {
  return absl::StrCat("{term ", state.term.value(), ", vote ",
                      state.vote ? absl::StrCat(state.vote->value()) : std::string("none"), ", commit ",
                      state.commit.value(), "}");
}

RecoveredState RecoveredState::bootstrap(Configuration configuration) {
  RecoveredState s;
  s.snapshot.configuration = std::move(configuration);
  return s;
}

const char* role_name(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "?";
}

}  // namespace reef::raft
