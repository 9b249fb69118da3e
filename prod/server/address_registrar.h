// AddressRegistrar: the leader makes sure every member's addresses are in
// the replicated address book (statemachine/node_addresses.h), not only in
// some nodes' static `peers`: a node that joins later learns the static
// members' addresses from the log or a snapshot like everyone else's.
// Checked periodically; one row proposed at a time, only while no
// membership change is in flight, so it never competes with one.
#pragma once

#include "prod/server/membership_admin.h"
#include "prod/server/server_node.h"

namespace reef::prod {

class AddressRegistrar {
 public:
  // `node` and `admin` must outlive this.
  AddressRegistrar(ServerNode& node, MembershipAdmin& admin) : node_(node), admin_(admin) {}

  // On the loop, periodically.
  void check();

 private:
  ServerNode& node_;
  MembershipAdmin& admin_;
  bool recording_ = false;
};

}  // namespace reef::prod
