#include "prod/server/peer_identity_guard.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"

namespace reef::prod {
namespace {

std::string hex(uint64_t incarnation) { return absl::StrCat(absl::Hex(incarnation, absl::kZeroPad16)); }

bool due(const std::optional<PeerIdentityGuard::Clock::time_point>& last, PeerIdentityGuard::Clock::time_point now) {
  return !last || now - *last >= PeerIdentityGuard::kLogInterval;
}

}  // namespace

PeerIdentityGuard::PeerIdentityGuard(std::unique_ptr<storage::PeerIncarnations> registry, std::string data_dir)
    : registry_(std::move(registry)), data_dir_(std::move(data_dir)) {}

bool PeerIdentityGuard::admit(raft::NodeId peer, uint64_t incarnation) {
  absl::StatusOr<storage::PeerIncarnations::Admission> admission = registry_->admit(peer, incarnation);
  if (!admission.ok()) {
    // A disk error must not make this node refuse (and so stop) a healthy
    // peer: admit it unrecorded; the next message tries to record it again.
    const Clock::time_point now = Clock::now();
    if (due(registry_error_logged_, now)) {
      registry_error_logged_ = now;
      spdlog::error("{}; admitting node {} without remembering its incarnation", admission.status().ToString(),
                    peer.value());
    }
    return true;
  }
  if (admission->admitted) return true;
  Refusal& refusal = refused_[peer];
  refusal.remembered = admission->remembered;
  refusal.seen = incarnation;
  ++refusal.messages;
  log_refusal(peer, refusal);
  return false;
}

void PeerIdentityGuard::log_refusal(raft::NodeId peer, Refusal& refusal) {
  const Clock::time_point now = Clock::now();
  if (!due(refusal.last_logged, now)) return;
  refusal.last_logged = now;
  spdlog::error(
      "node {} came back with a new data directory (incarnation {}, previously {}): it may have lost entries it "
      "acknowledged; refusing its messages ({} so far). Remove it and add it back as a new node: {}",
      peer.value(), hex(refusal.seen), hex(refusal.remembered), refusal.messages, kReplaceNodeRunbook);
}

void PeerIdentityGuard::refused_by(raft::NodeId peer) {
  if (!refused_by_.insert(peer).second) return;
  spdlog::critical(
      "node {} refuses this node: it remembers another incarnation of this node id, so this data directory ({}) "
      "is not the one this node had before (it was wiped or replaced) and may lack entries this node "
      "acknowledged. Refusing to serve. Remove this node from the cluster and add it back as a new node: {}",
      peer.value(), data_dir_, kReplaceNodeRunbook);
}

}  // namespace reef::prod
