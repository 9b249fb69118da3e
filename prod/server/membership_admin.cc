#include "prod/server/membership_admin.h"

#include <utility>

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "statemachine/batch_response.h"
#include "statemachine/command_batch.h"

namespace reef::prod {

uint64_t MembershipAdmin::deadline() const { return node_.clock().now_ms() + timeout_ms_; }

void MembershipAdmin::add(raft::NodeId id, MemberAddresses addresses, Done done) {
  if (id == raft::NodeId(0)) return done(absl::InvalidArgumentError("node id 0 is reserved"));
  if (addresses.raft_address.empty()) {
    return done(absl::InvalidArgumentError(absl::StrCat("node ", id.value(), ": a raft address is required")));
  }
  const raft::Configuration& configuration = node_.core().configuration();
  if (configuration.is_learner(id) && !configuration.is_voter(id)) {
    // Added already (`reefdb node add` before the node's first start, or a
    // joiner that restarted before it held anything): the same node at the
    // same address is welcome. A learner never counts toward a quorum, so
    // even one that lost its directory cannot take back an acknowledgement.
    const std::optional<MemberAddresses> known = node_.addresses().find(id);
    if (known && known->raft_address == addresses.raft_address) return done(configuration.describe());
  }
  if (const std::optional<MemberAddresses> known = node_.addresses().find(id); known && known->removed) {
    return done(absl::AlreadyExistsError(absl::StrCat(
        "node ", id.value(), " was removed from this cluster and its id is retired: a late message of the old "
        "node could be taken for the new one's; join under a new id (see ", kReplaceNodeRunbook, ")")));
  }
  if (configuration.is_member(id)) {
    return done(absl::AlreadyExistsError(absl::StrCat(
        "node ", id.value(), " is already a member (", configuration.describe(),
        "); a node with a fresh data directory cannot take an existing id: remove node ", id.value(),
        " first and join under a new id (see ", kReplaceNodeRunbook, ")")));
  }
  // The learner promoter turns a wanted voter into one once it caught up.
  record_then_change(id, std::move(addresses), raft::MembershipOp::kAddLearner, std::move(done));
}

void MembershipAdmin::promote(raft::NodeId id, Done done) { set_role(id, /*voter=*/true, std::move(done)); }

void MembershipAdmin::demote(raft::NodeId id, Done done) { set_role(id, /*voter=*/false, std::move(done)); }

void MembershipAdmin::set_role(raft::NodeId id, bool voter, Done done) {
  std::optional<MemberAddresses> addresses = node_.addresses().find(id);
  if (!node_.core().configuration().is_member(id) || !addresses) {
    return done(absl::NotFoundError(absl::StrCat("node ", id.value(), " is not a member (",
                                                 node_.core().configuration().describe(), ")")));
  }
  addresses->wants_voter = voter;
  record_then_change(id, *std::move(addresses), voter ? raft::MembershipOp::kAddVoter : raft::MembershipOp::kAddLearner,
                     std::move(done));
}

void MembershipAdmin::remove(raft::NodeId id, Done done) {
  change({raft::MembershipChange{raft::MembershipOp::kRemove, id}}, std::move(done));
}

// Removals first retire their ids in the address book (one entry each),
// then the change runs. A change refused after that leaves a retired id
// on a member: harmless, that id was going anyway and is never reused.
void MembershipAdmin::change(std::vector<raft::MembershipChange> steps, Done done) {
  std::vector<raft::NodeId> retiring;
  for (const raft::MembershipChange& step : steps) {
    if (step.op == raft::MembershipOp::kRemove && node_.core().configuration().is_member(step.node)) {
      retiring.push_back(step.node);
    }
  }
  retire_then_change(std::move(retiring), std::move(steps), std::move(done));
}

void MembershipAdmin::retire_then_change(std::vector<raft::NodeId> retiring, std::vector<raft::MembershipChange> steps,
                                         Done done) {
  if (retiring.empty()) return run_change(std::move(steps), std::move(done));
  const raft::NodeId id = retiring.back();
  retiring.pop_back();
  MemberAddresses retired = node_.addresses().find(id).value_or(MemberAddresses{});
  retired.wants_voter = false;
  retired.removed = true;
  spdlog::info("retiring node {}'s id before removing it", id.value());
  record_address(id, retired,
                 [this, retiring = std::move(retiring), steps = std::move(steps), done = std::move(done)](
                     absl::Status recorded) mutable {
                   if (!recorded.ok()) return done(std::move(recorded));
                   retire_then_change(std::move(retiring), std::move(steps), std::move(done));
                 });
}

void MembershipAdmin::run_change(std::vector<raft::MembershipChange> steps, Done done) {
  raft::ClientRequest request;
  request.kind = raft::RequestKind::kMembershipChange;
  request.membership = std::move(steps);
  request.deadline_ms = deadline();
  node_.submit(std::move(request), [done = std::move(done)](raft::ClientResponse response) {
    if (!response.status.ok()) return done(std::move(response.status));
    done(std::move(response.response));
  });
}

void MembershipAdmin::record_then_change(raft::NodeId id, MemberAddresses addresses, raft::MembershipOp op,
                                         Done done) {
  record_address(id, addresses, [this, id, op, done = std::move(done)](absl::Status recorded) mutable {
    if (!recorded.ok()) return done(std::move(recorded));
    run_change({raft::MembershipChange{op, id}}, std::move(done));
  });
}

// Proposes the address batch and waits until it is applied on this node.
void MembershipAdmin::record_address(raft::NodeId id, const MemberAddresses& addresses,
                             std::function<void(absl::Status)> then) {
  statemachine::CommandBatch batch;
  batch.node_address = statemachine::NodeAddress{id.value(), addresses.raft_address, addresses.http_address,
                                                 addresses.wants_voter, addresses.removed};
  raft::ClientRequest request;
  request.kind = raft::RequestKind::kWrite;
  request.payload = statemachine::encode_command_batch(batch);
  request.deadline_ms = deadline();
  node_.submit(std::move(request), [then = std::move(then)](raft::ClientResponse response) {
    if (!response.status.ok()) return then(std::move(response.status));
    absl::StatusOr<statemachine::BatchResponse> applied = statemachine::decode_batch_response(response.response);
    if (!applied.ok()) return then(applied.status());
    if (!applied->ok()) return then(absl::InternalError(absl::StrCat("recording the address: ", applied->message)));
    then(absl::OkStatus());
  });
}

}  // namespace reef::prod
