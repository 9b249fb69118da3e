#include "prod/server/address_registrar.h"

#include <spdlog/spdlog.h>

namespace reef::prod {

void AddressRegistrar::check() {
  const raft::Core& core = node_.core();
  if (recording_ || !core.is_leader() || core.membership_change_in_flight()) return;
  for (raft::NodeId member : core.configuration().members()) {
    if (node_.addresses().replicated(member)) continue;
    const std::optional<MemberAddresses> seed = node_.addresses().find(member);
    if (!seed) continue;  // nobody told this node; it cannot tell the others
    recording_ = true;
    admin_.record_address(member, *seed, [this, member](absl::Status status) {
      recording_ = false;
      if (!status.ok()) spdlog::warn("recording node {}'s addresses: {}", member.value(), status.ToString());
    });
    return;
  }
}

}  // namespace reef::prod
