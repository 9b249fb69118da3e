#include "raft/state.h"

namespace reef::raft {

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
