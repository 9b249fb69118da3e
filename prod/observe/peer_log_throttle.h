// PeerLogThrottle: decides which transport troubles are worth a log line, so
// that a peer that is down for an hour costs a handful of lines rather than
// one per reconnect attempt (several a second while the backoff is short),
// and a stranger sending garbage cannot flood the log.
//
//  - A peer's first failure after it was fine (or since start): a line at
//    once. Further failures: at most one line per interval, saying how many
//    there were and for how long the peer has been failing.
//  - The first connection after failures: a line saying the peer is
//    reachable again, after how many failures and how long.
//  - Inbound refusals (bad frames, another cluster): the first at once, then
//    at most one line per interval for all of them, with how many were not
//    logged in between.
//
// Pure logic: the caller passes the time and logs the returned line. State
// is per configured peer (the transport's links), so it stays small.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/btree_map.h"
#include "absl/strings/string_view.h"
#include "raft/core/types.h"

namespace reef::prod {

class PeerLogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  explicit PeerLogThrottle(std::chrono::nanoseconds interval) : interval_(interval) {}

  // Each returns the line to log, or nullopt to stay quiet.
  std::optional<std::string> peer_failed(raft::NodeId peer, absl::string_view why, Clock::time_point now);
  std::optional<std::string> peer_connected(raft::NodeId peer, Clock::time_point now);
  std::optional<std::string> inbound_refused(absl::string_view remote, absl::string_view why,
                                             Clock::time_point now);

 private:
  struct PeerState {
    bool failing = false;
    Clock::time_point failing_since;
    Clock::time_point last_logged;
    uint64_t failures = 0;  // since failing_since
  };

  const std::chrono::nanoseconds interval_;
  absl::btree_map<raft::NodeId, PeerState> peers_;
  std::optional<Clock::time_point> refusal_logged_;
  uint64_t refusals_unlogged_ = 0;
};

}  // namespace reef::prod
