#include "prod/server/address_book.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace reef::prod {

void AddressBook::seed(raft::NodeId id, MemberAddresses addresses) {
  seeds_[id] = std::move(addresses);
  merge();
}

std::vector<raft::NodeId> AddressBook::update_from(const std::vector<statemachine::NodeAddress>& rows) {
  const std::map<raft::NodeId, MemberAddresses> before = merged_;
  replicated_.clear();
  for (const statemachine::NodeAddress& row : rows) {
    replicated_[raft::NodeId(row.node_id)] = MemberAddresses{row.raft_address, row.http_address, row.wants_voter, row.removed};
  }
  merge();
  std::vector<raft::NodeId> changed;
  for (const auto& [id, addresses] : merged_) {
    auto old = before.find(id);
    if (old == before.end() || old->second.raft_address != addresses.raft_address ||
        old->second.http_address != addresses.http_address) {
      changed.push_back(id);
    }
  }
  return changed;
}

void AddressBook::merge() {
  merged_ = seeds_;
  for (const auto& [id, addresses] : replicated_) merged_[id] = addresses;
}

std::optional<MemberAddresses> AddressBook::find(raft::NodeId id) const {
  auto it = merged_.find(id);
  if (it == merged_.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> AddressBook::http_url(raft::NodeId id) const {
  std::optional<MemberAddresses> found = find(id);
  if (!found || found->http_address.empty()) return std::nullopt;
  return absl::StrCat("http://", found->http_address);
}

}  // namespace reef::prod
