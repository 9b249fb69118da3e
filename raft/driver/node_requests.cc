// Node: client requests — proposals, reads at each level, forwarding to the
// leader, deadlines. See node.h for the promises each read level makes; the
// requests wait in requests_ (raft/driver/request_table.h) while this file decides
// what each one waits for next and answers it.
#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "raft/driver/node.h"

namespace reef::raft {

void Node::submit(ClientRequest request, ResponseCallback done) {
  event_arrived();
  Waiter waiter{std::move(request), std::move(done)};
  if (stopped()) {
    reply(waiter, absl::UnavailableError(absl::StrCat("node ", id().value(), " stopped: ", stop_reason_.message())));
    return;
  }
  if (requests_.size() >= config_.max_pending_requests) {
    reply(waiter, absl::ResourceExhaustedError(absl::StrCat("node ", id().value(), " has ",
                                                            config_.max_pending_requests,
                                                            " requests pending; retry later")));
    return;
  }
  if (waiter.request.deadline_ms <= ports_.clock->now_ms()) {
    reply(waiter, absl::DeadlineExceededError("request deadline already passed"));
    return;
  }
  if (served_by_leader_only(waiter.request.kind) && !core_.is_leader()) {
    forward_or_refuse(std::move(waiter));
    return;
  }
  switch (waiter.request.kind) {
    case RequestKind::kWrite:
      submit_proposal(std::move(waiter));
      return;
    case RequestKind::kReadStrong:
      submit_barrier(std::move(waiter));
      return;
    case RequestKind::kMembershipChange:
      submit_membership_change(std::move(waiter));
      return;
    case RequestKind::kReadLinearizable:
      // A follower's core forwards the ReadIndex request itself.
      submit_read_index(std::move(waiter));
      return;
    case RequestKind::kReadWeak: {
      const Index needed = waiter.request.min_applied;
      wait_for_applied(std::move(waiter), needed);
      return;
    }
    case RequestKind::kReadNone: {
      if (absl::Status fresh = check_read_freshness(waiter.request); !fresh.ok()) {
        reply(waiter, std::move(fresh));
        return;
      }
      const Index needed = waiter.request.min_applied;
      wait_for_applied(std::move(waiter), needed);
      return;
    }
  }
  REEF_UNREACHABLE("request kind ", static_cast<int>(waiter.request.kind));
}

// Checked once, when the read arrives (as rqlite does); a read that then
// waits for min_applied is served when that index is applied, which takes
// hearing from the leader anyway. A zero bound is no bound (rqlite's rule).
absl::Status Node::check_read_freshness(const ClientRequest& request) const {
  if (!request.freshness || request.freshness->max_staleness_ms == 0) return absl::OkStatus();
  return check_freshness(freshness_state(), ports_.clock->now_ms(), *request.freshness);
}

void Node::submit_proposal(Waiter waiter) {
  absl::StatusOr<std::string> payload =
      ports_.state_machine->prepare_proposal(waiter.request.payload, ports_.clock->wall_now_ms());
  if (!payload.ok()) {
    reply(waiter, payload.status());
    return;
  }
  std::vector<std::string> payloads;
  payloads.push_back(std::move(*payload));
  waiter.request.payload.clear();
  const ProposalId id = requests_.add_proposing(std::move(waiter));
  core_.step(Propose{id, std::move(payloads)});
}

// A strong read goes through the log as a barrier, not as itself: once
// the barrier is applied here, every write committed before the read
// arrived is too, and the query runs like any other read (off the loop on
// a host that has readers), from that state or a newer one. Its payload
// stays with the waiter until then.
void Node::submit_barrier(Waiter waiter) {
  std::vector<std::string> payloads(1);
  const ProposalId id = requests_.add_proposing(std::move(waiter));
  core_.step(Propose{id, std::move(payloads), EntryType::kNoop});
}

// Placed and answered like a write: the core reports where the
// configuration entry went, and the waiter is answered when it is applied.
void Node::submit_membership_change(Waiter waiter) {
  std::vector<MembershipChange> changes = std::move(waiter.request.membership);
  waiter.request.membership.clear();
  const ProposalId id = requests_.add_proposing(std::move(waiter));
  core_.step(ChangeMembership{id, std::move(changes)});
}

void Node::submit_read_index(Waiter waiter) {
  const ReadId id = requests_.add_read_index(std::move(waiter));
  core_.step(ReadIndex{id});
}

void Node::forward_or_refuse(Waiter waiter) {
  const std::optional<NodeId> leader = core_.leader();
  if (!config_.forward_to_leader || !leader || *leader == id()) {
    reply(waiter, not_leader_error(leader));
    return;
  }
  const RequestKind kind = waiter.request.kind;
  const Index min_applied = waiter.request.min_applied;
  std::string payload = std::move(waiter.request.payload);
  std::vector<MembershipChange> membership = std::move(waiter.request.membership);
  const uint64_t id = requests_.add_forwarded(std::move(waiter));
  ForwardedRequest forwarded{id, kind, std::move(payload), min_applied, std::move(membership)};
  ports_.transport->send(NodeMessage{this->id(), *leader, std::move(forwarded)});
}

void Node::wait_for_applied(Waiter waiter, Index needed) {
  if (needed <= applied_.index) {
    answer_query(waiter);
    return;
  }
  requests_.add_waiting_for_applied(needed, std::move(waiter));
}

void Node::serve_waiting_reads() {
  while (!stopped()) {
    std::optional<Waiter> waiter = requests_.take_servable(applied_.index);
    if (!waiter) return;
    answer_query(*waiter);
  }
}

// The state machine may answer later, off the loop: the answer then goes
// straight to the client's callback and reports the applied index the read
// was started at, the least it reflects.
void Node::answer_query(Waiter& waiter) {
  ports_.state_machine->start_query(
      std::move(waiter.request.payload),
      [done = std::move(waiter.done), applied = applied_.index](absl::StatusOr<std::string> response) mutable {
        if (!response.ok()) {
          done(ClientResponse{response.status(), {}, std::nullopt, applied});
          return;
        }
        done(ClientResponse{absl::OkStatus(), *std::move(response), std::nullopt, applied});
      });
}

void Node::handle_proposal_results(std::vector<ProposalResult>& results) {
  for (ProposalResult& result : results) {
    std::optional<Waiter> waiter = requests_.take_proposing(result.id);
    if (!waiter) continue;  // expired meanwhile
    if (!result.status.ok()) {
      reply(*waiter, result.status);
      continue;
    }
    REEF_ASSERT(result.first_index == result.last_index, "one payload, one entry");
    requests_.add_placed(result.last_index, result.term, std::move(*waiter));
  }
}

void Node::handle_read_results(std::vector<ReadResult>& results) {
  for (ReadResult& result : results) {
    std::optional<Waiter> waiter = requests_.take_read_index(result.id);
    if (!waiter) continue;  // expired meanwhile
    if (!result.status.ok()) {
      reply(*waiter, result.status);
      continue;
    }
    const Index needed = std::max(result.read_index, waiter->request.min_applied);
    wait_for_applied(std::move(*waiter), needed);
  }
}

void Node::resolve_proposal(const LogEntry& entry, std::string response) {
  std::optional<RequestTable::Placed> placed = requests_.take_placed(entry.index);
  if (!placed) return;
  if (entry.term != placed->term) {
    // A later leader's entry took the index: ours was never committed.
    reply(placed->waiter, absl::AbortedError(absl::StrCat("leadership changed; the request was not applied (index ",
                                                         entry.index.value(), " holds a term ",
                                                         entry.term.value(), " entry); retry")));
    return;
  }
  if (placed->waiter.request.kind == RequestKind::kReadStrong) {
    const Index needed = std::max(entry.index, placed->waiter.request.min_applied);
    wait_for_applied(std::move(placed->waiter), needed);
    return;
  }
  reply(placed->waiter, absl::OkStatus(), std::move(response));
}

void Node::fail_proposals_through(Index index, const absl::Status& status) {
  for (Waiter& waiter : requests_.take_placed_through(index)) reply(waiter, status);
}

void Node::handle_forwarded_request(NodeId from, ForwardedRequest forwarded) {
  const uint64_t request_id = forwarded.request_id;
  ResponseCallback send_reply = [this, from, request_id](ClientResponse response) {
    ForwardedReply r{request_id, response.status.code(), std::string(response.status.message()),
                     response.leader_hint, std::move(response.response), response.applied};
    ports_.transport->send(NodeMessage{id(), from, std::move(r)});
  };
  ClientRequest request{forwarded.kind, std::move(forwarded.payload), forwarded.min_applied,
                        ports_.clock->now_ms() + config_.forwarded_request_timeout_ms, std::nullopt,
                        std::move(forwarded.membership)};
  if (!core_.is_leader() && forwarded.kind != RequestKind::kReadNone) {
    // Never forward a forwarded request again: two nodes that each think
    // the other leads would bounce it forever.
    Waiter waiter{std::move(request), std::move(send_reply)};
    reply(waiter, not_leader_error(core_.leader()));
    return;
  }
  submit(std::move(request), std::move(send_reply));
}

void Node::handle_forwarded_reply(ForwardedReply forwarded) {
  std::optional<Waiter> waiter = requests_.take_forwarded(forwarded.request_id);
  if (!waiter) return;  // expired, or a duplicate
  ClientResponse response{absl::Status(forwarded.code, forwarded.error), std::move(forwarded.response),
                          forwarded.leader_hint, forwarded.applied};
  waiter->done(std::move(response));
}

void Node::expire_requests() {
  RequestTable::Expired expired = requests_.take_expired(ports_.clock->now_ms());
  for (ResponseCallback& done : expired.writes) {
    done(ClientResponse{absl::DeadlineExceededError("deadline exceeded; the write may or may not have been "
                                                    "applied (retrying with the same command id is safe)"),
                        {}, core_.leader(), applied_.index});
  }
  for (ResponseCallback& done : expired.reads) {
    done(ClientResponse{absl::DeadlineExceededError("deadline exceeded before the read could be served"), {},
                        core_.leader(), applied_.index});
  }
}

void Node::fail_all_requests(const absl::Status& status) {
  for (Waiter& waiter : requests_.take_all()) reply(waiter, status);
}

void Node::reply(Waiter& waiter, absl::Status status, std::string response) {
  std::optional<NodeId> hint;
  if (is_not_leader(status)) hint = core_.leader();
  waiter.done(ClientResponse{std::move(status), std::move(response), hint, applied_.index});
}

}  // namespace reef::raft
