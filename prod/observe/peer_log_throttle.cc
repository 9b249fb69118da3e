#include "prod/observe/peer_log_throttle.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace reef::prod {
namespace {

std::string seconds_text(std::chrono::nanoseconds duration) {
  return absl::StrFormat("%.1f s", std::chrono::duration<double>(duration).count());
}

}  // namespace

std::optional<std::string> PeerLogThrottle::peer_failed(raft::NodeId peer, absl::string_view why,
                                                        Clock::time_point now) {
  PeerState& state = peers_[peer];
  if (!state.failing) {
    state = PeerState{true, now, now, 1};
    return absl::StrCat("peer ", peer.value(), " unreachable: ", why);
  }
  ++state.failures;
  if (now - state.last_logged < interval_) return std::nullopt;
  state.last_logged = now;
  return absl::StrCat("peer ", peer.value(), " still unreachable: ", state.failures, " failures in ",
                      seconds_text(now - state.failing_since), " (latest: ", why, ")");
}

std::optional<std::string> PeerLogThrottle::peer_connected(raft::NodeId peer, Clock::time_point now) {
  auto it = peers_.find(peer);
  if (it == peers_.end() || !it->second.failing) return std::nullopt;  // nothing was said about it
  const PeerState state = it->second;
  it->second = PeerState{};
  return absl::StrCat("peer ", peer.value(), " reachable again after ", state.failures,
                      state.failures == 1 ? " failure" : " failures", " in ",
                      seconds_text(now - state.failing_since));
}

std::optional<std::string> PeerLogThrottle::inbound_refused(absl::string_view remote, absl::string_view why,
                                                            Clock::time_point now) {
  if (refusal_logged_ && now - *refusal_logged_ < interval_) {
    ++refusals_unlogged_;
    return std::nullopt;
  }
  std::string line = absl::StrCat("refused a connection from ", remote, ": ", why);
  if (refusals_unlogged_ > 0) {
    absl::StrAppend(&line, " (", refusals_unlogged_, " more refused since the last such line)");
  }
  refusal_logged_ = now;
  refusals_unlogged_ = 0;
  return line;
}

}  // namespace reef::prod
