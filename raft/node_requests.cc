// Node: client requests — proposals, reads at each level, forwarding to the
// leader, deadlines. See node.h for the promises each read level makes.
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "raft/assert.h"
#include "raft/node.h"

namespace reef::raft {
namespace {

// Takes every element whose waiter has expired out of `map` first, so that
// callbacks run after the map is consistent (a callback may submit again).
template <typename Map, typename GetWaiter>
void take_expired(Map& map, uint64_t now_ms, GetWaiter get, std::vector<ResponseCallback>& expired_writes,
                  std::vector<ResponseCallback>& expired_reads) {
  for (auto it = map.begin(); it != map.end();) {
    auto& waiter = get(it->second);
    if (waiter.request.deadline_ms > now_ms) {
      ++it;
      continue;
    }
    const bool is_write = !is_read(waiter.request.kind) || waiter.request.kind == RequestKind::kReadStrong;
    (is_write ? expired_writes : expired_reads).push_back(std::move(waiter.done));
    it = map.erase(it);
  }
}

}  // namespace

const char* request_kind_name(RequestKind kind) {
  switch (kind) {
    case RequestKind::kWrite: return "write";
    case RequestKind::kReadStrong: return "read-strong";
    case RequestKind::kReadLinearizable: return "read-linearizable";
    case RequestKind::kReadWeak: return "read-weak";
    case RequestKind::kReadNone: return "read-none";
  }
  return "unknown";
}

bool is_read(RequestKind kind) { return kind != RequestKind::kWrite; }

void Node::submit(ClientRequest request, ResponseCallback done) {
  Waiter waiter{std::move(request), std::move(done)};
  if (stopped()) {
    reply(waiter, absl::UnavailableError(absl::StrCat("node ", id().value(), " stopped: ", stop_reason_.message())));
    return;
  }
  if (pending_request_count() >= config_.max_pending_requests) {
    reply(waiter, absl::ResourceExhaustedError(absl::StrCat("node ", id().value(), " has ",
                                                            config_.max_pending_requests,
                                                            " requests pending; retry later")));
    return;
  }
  if (waiter.request.deadline_ms <= ports_.clock->now_ms()) {
    reply(waiter, absl::DeadlineExceededError("request deadline already passed"));
    return;
  }
  switch (waiter.request.kind) {
    case RequestKind::kWrite:
    case RequestKind::kReadStrong:
      if (core_.is_leader()) {
        submit_proposal(std::move(waiter));
      } else {
        forward_or_refuse(std::move(waiter));
      }
      return;
    case RequestKind::kReadLinearizable:
      // A follower's core forwards the ReadIndex request itself.
      submit_read_index(std::move(waiter));
      return;
    case RequestKind::kReadWeak:
      if (core_.is_leader()) {
        const Index needed = waiter.request.min_applied;
        wait_for_applied(std::move(waiter), needed);
      } else {
        forward_or_refuse(std::move(waiter));
      }
      return;
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
  const uint64_t id = next_proposal_id_++;
  std::vector<std::string> payloads;
  payloads.push_back(std::move(*payload));
  waiter.request.payload.clear();
  proposing_.emplace(id, std::move(waiter));
  core_.step(Propose{ProposalId(id), std::move(payloads)});
}

void Node::submit_read_index(Waiter waiter) {
  const uint64_t id = next_read_id_++;
  read_indexes_.emplace(id, std::move(waiter));
  core_.step(ReadIndex{ReadId(id)});
}

void Node::forward_or_refuse(Waiter waiter) {
  const std::optional<NodeId> leader = core_.leader();
  if (!config_.forward_to_leader || !leader || *leader == id()) {
    reply(waiter, not_leader_error(leader));
    return;
  }
  const uint64_t id = next_forward_id_++;
  ForwardedRequest forwarded{id, waiter.request.kind, std::move(waiter.request.payload), waiter.request.min_applied};
  forwards_.emplace(id, std::move(waiter));
  ports_.transport->send(NodeMessage{this->id(), *leader, std::move(forwarded)});
}

void Node::wait_for_applied(Waiter waiter, Index needed) {
  if (needed <= applied_.index) {
    answer_query(waiter);
    return;
  }
  waiting_reads_.emplace(needed.value(), std::move(waiter));
}

void Node::serve_waiting_reads() {
  while (!stopped() && !waiting_reads_.empty() && waiting_reads_.begin()->first <= applied_.index.value()) {
    Waiter waiter = std::move(waiting_reads_.begin()->second);
    waiting_reads_.erase(waiting_reads_.begin());
    answer_query(waiter);
  }
}

void Node::answer_query(Waiter& waiter) {
  absl::StatusOr<std::string> response = ports_.state_machine->query(waiter.request.payload);
  if (!response.ok()) {
    reply(waiter, response.status());
    return;
  }
  reply(waiter, absl::OkStatus(), std::move(*response));
}

void Node::handle_proposal_results(std::vector<ProposalResult>& results) {
  for (ProposalResult& result : results) {
    auto it = proposing_.find(result.id.value());
    if (it == proposing_.end()) continue;  // expired meanwhile
    Waiter waiter = std::move(it->second);
    proposing_.erase(it);
    if (!result.status.ok()) {
      reply(waiter, result.status);
      continue;
    }
    REEF_ASSERT(result.first_index == result.last_index, "one payload, one entry");
    proposals_.emplace(result.last_index.value(), PlacedProposal{result.term, std::move(waiter)});
  }
}

void Node::handle_read_results(std::vector<ReadResult>& results) {
  for (ReadResult& result : results) {
    auto it = read_indexes_.find(result.id.value());
    if (it == read_indexes_.end()) continue;  // expired meanwhile
    Waiter waiter = std::move(it->second);
    read_indexes_.erase(it);
    if (!result.status.ok()) {
      reply(waiter, result.status);
      continue;
    }
    const Index needed = std::max(result.read_index, waiter.request.min_applied);
    wait_for_applied(std::move(waiter), needed);
  }
}

void Node::resolve_proposal(const LogEntry& entry, std::string response) {
  auto it = proposals_.find(entry.index.value());
  if (it == proposals_.end()) return;
  PlacedProposal placed = std::move(it->second);
  proposals_.erase(it);
  if (entry.term != placed.term) {
    // A later leader's entry took the index: ours was never committed.
    reply(placed.waiter, absl::AbortedError(absl::StrCat("leadership changed; the request was not applied (index ",
                                                         entry.index.value(), " holds a term ",
                                                         entry.term.value(), " entry); retry")));
    return;
  }
  reply(placed.waiter, absl::OkStatus(), std::move(response));
}

void Node::fail_proposals_through(Index index, const absl::Status& status) {
  std::vector<Waiter> failed;
  while (!proposals_.empty() && proposals_.begin()->first <= index.value()) {
    failed.push_back(std::move(proposals_.begin()->second.waiter));
    proposals_.erase(proposals_.begin());
  }
  for (Waiter& waiter : failed) reply(waiter, status);
}

void Node::handle_forwarded_request(NodeId from, ForwardedRequest forwarded) {
  const uint64_t request_id = forwarded.request_id;
  ResponseCallback send_reply = [this, from, request_id](ClientResponse response) {
    ForwardedReply r{request_id, response.status.code(), std::string(response.status.message()),
                     response.leader_hint, std::move(response.response), response.applied};
    ports_.transport->send(NodeMessage{id(), from, std::move(r)});
  };
  ClientRequest request{forwarded.kind, std::move(forwarded.payload), forwarded.min_applied,
                        ports_.clock->now_ms() + config_.forwarded_request_timeout_ms};
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
  auto it = forwards_.find(forwarded.request_id);
  if (it == forwards_.end()) return;  // expired, or a duplicate
  Waiter waiter = std::move(it->second);
  forwards_.erase(it);
  ClientResponse response{absl::Status(forwarded.code, forwarded.error), std::move(forwarded.response),
                          forwarded.leader_hint, forwarded.applied};
  waiter.done(std::move(response));
}

void Node::expire_requests() {
  const uint64_t now = ports_.clock->now_ms();
  std::vector<ResponseCallback> writes;
  std::vector<ResponseCallback> reads;
  auto plain = [](Waiter& w) -> Waiter& { return w; };
  take_expired(proposing_, now, plain, writes, reads);
  take_expired(proposals_, now, [](PlacedProposal& p) -> Waiter& { return p.waiter; }, writes, reads);
  take_expired(read_indexes_, now, plain, writes, reads);
  take_expired(waiting_reads_, now, plain, writes, reads);
  take_expired(forwards_, now, plain, writes, reads);
  for (ResponseCallback& done : writes) {
    done(ClientResponse{absl::DeadlineExceededError("deadline exceeded; the write may or may not have been "
                                                    "applied (retrying with the same command id is safe)"),
                        {}, core_.leader(), applied_.index});
  }
  for (ResponseCallback& done : reads) {
    done(ClientResponse{absl::DeadlineExceededError("deadline exceeded before the read could be served"), {},
                        core_.leader(), applied_.index});
  }
}

void Node::fail_all_requests(const absl::Status& status) {
  std::vector<Waiter> failed;
  for (auto& [_, w] : proposing_) failed.push_back(std::move(w));
  for (auto& [_, p] : proposals_) failed.push_back(std::move(p.waiter));
  for (auto& [_, w] : read_indexes_) failed.push_back(std::move(w));
  for (auto& [_, w] : waiting_reads_) failed.push_back(std::move(w));
  for (auto& [_, w] : forwards_) failed.push_back(std::move(w));
  proposing_.clear();
  proposals_.clear();
  read_indexes_.clear();
  waiting_reads_.clear();
  forwards_.clear();
  for (Waiter& waiter : failed) reply(waiter, status);
}

void Node::reply(Waiter& waiter, absl::Status status, std::string response) {
  std::optional<NodeId> hint;
  if (is_not_leader(status)) hint = core_.leader();
  waiter.done(ClientResponse{std::move(status), std::move(response), hint, applied_.index});
}

uint64_t Node::pending_request_count() const {
  return proposing_.size() + proposals_.size() + read_indexes_.size() + waiting_reads_.size() + forwards_.size();
}

}  // namespace reef::raft
