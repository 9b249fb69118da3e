#include "tests/raft/support/cluster.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::raft::testing {

const char* injected_bug_name(InjectedBug bug) {
  switch (bug) {
    case InjectedBug::kNone: return "none";
    case InjectedBug::kForgetVoteOnRestart: return "forget-vote-on-restart";
    case InjectedBug::kAckBeforePersist: return "ack-before-persist";
    case InjectedBug::kAppendAckBeforePersist: return "append-ack-before-persist";
  }
  return "?";
}

Cluster::Cluster(ClusterOptions options)
    : options_(std::move(options)), checker_(options_.membership_rule_checks) {
  std::vector<NodeId> voters;
  std::vector<NodeId> learners;
  for (size_t i = 1; i <= options_.voters + options_.learners; ++i) {
    ids_.push_back(NodeId(i));
    (i <= options_.voters ? voters : learners).push_back(NodeId(i));
  }
  const Configuration configuration = Configuration::of_voters(voters, learners);
  uint64_t seed_state = options_.seed;
  for (NodeId id : ids_) {
    Node node;
    node.config.id = id;
    node.config.seed = splitmix64(seed_state);
    if (options_.configure) options_.configure(node.config);
    node.config.id = id;
    node.durable = RecoveredState::bootstrap(configuration);
    auto core = Core::create(node.config, node.durable);
    REEF_ASSERT(core.ok(), core.status().ToString());
    node.core.emplace(*std::move(core));
    nodes_.emplace(id, std::move(node));
  }
}

Core& Cluster::core(NodeId id) { return *nodes_.at(id).core; }
const Core& Cluster::core(NodeId id) const { return *nodes_.at(id).core; }

void Cluster::step(NodeId id, Input input) {
  core(id).step(std::move(input));
  run_driver(id);
  check();
}

void Cluster::tick(NodeId id, int times) {
  for (int i = 0; i < times; ++i) step(id, Tick{});
}

void Cluster::tick_all(int times) {
  for (int i = 0; i < times; ++i) {
    for (NodeId id : ids_) step(id, Tick{});
  }
}

ProposalResult Cluster::propose(NodeId id, std::string payload) {
  const ProposalId pid(next_proposal_id_++);
  step(id, Propose{pid, {std::move(payload)}});
  for (const ProposalResult& r : nodes_.at(id).proposals) {
    if (r.id == pid) return r;
  }
  REEF_UNREACHABLE("proposal ", pid.value(), " produced no result");
}

void Cluster::add_node(NodeId id) {
  REEF_ASSERT(!nodes_.contains(id), "node ", id.value(), " exists");
  uint64_t seed_state = options_.seed ^ (id.value() * 0x9e3779b97f4a7c15ULL);
  Node node;
  node.config.seed = splitmix64(seed_state);
  if (options_.configure) options_.configure(node.config);
  node.config.id = id;
  node.durable = RecoveredState::bootstrap(Configuration{});
  auto core = Core::create(node.config, node.durable);
  REEF_ASSERT(core.ok(), core.status().ToString());
  node.core.emplace(*std::move(core));
  nodes_.emplace(id, std::move(node));
  ids_.push_back(id);
  // Added while the network is partitioned: on its own until the heal.
  if (!group_.empty()) {
    int last = 0;
    for (const auto& [member, group] : group_) last = std::max(last, group);
    group_[id] = last + 1;
  }
}

ProposalResult Cluster::change_membership(NodeId leader, std::vector<MembershipChange> changes) {
  const ProposalId pid(next_proposal_id_++);
  step(leader, ChangeMembership{pid, std::move(changes)});
  for (const ProposalResult& r : nodes_.at(leader).proposals) {
    if (r.id == pid) return r;
  }
  REEF_UNREACHABLE("membership change ", pid.value(), " produced no result");
}

void Cluster::compact(NodeId id, Index index) {
  Node& node = nodes_.at(id);
  REEF_ASSERT(index.value() <= node.applied.size(), "compact beyond the applied state");
  // Take a durable snapshot first, then let the core drop its log prefix.
  node.durable_snapshot_state.assign(node.applied.begin(),
                                     node.applied.begin() + static_cast<ptrdiff_t>(index.value()));
  node.durable.snapshot = SnapshotMeta{index, *node.core->log().term_at(index), node.core->configuration_at(index)};
  auto& entries = node.durable.entries;
  entries.erase(
      std::remove_if(entries.begin(), entries.end(), [&](const LogEntry& e) { return e.index <= index; }),
      entries.end());
  step(id, CompactTo{index});
}

void Cluster::run_driver(NodeId id) {
  Node& node = nodes_.at(id);
  Output out = node.core->take_output();
  if (out.empty()) return;
  send_all(id, out.messages);
  if (options_.bug == InjectedBug::kAckBeforePersist ||
      options_.bug == InjectedBug::kAppendAckBeforePersist) {
    // Injected bug: promises leave before the write they promise is durable.
    auto early = [&](const Message& m) {
      return options_.bug == InjectedBug::kAckBeforePersist || std::holds_alternative<AppendResponse>(m.body);
    };
    std::vector<Message> now;
    std::vector<Message> later;
    for (Message& m : out.messages_after_persist) (early(m) ? now : later).push_back(std::move(m));
    send_all(id, now);
    out.messages_after_persist = std::move(later);
  }
  for (auto& r : out.reads) node.reads.push_back(std::move(r));
  for (auto& r : out.proposals) node.proposals.push_back(std::move(r));
  for (auto& r : out.transfers) node.transfers.push_back(std::move(r));
  PendingWrite pending{std::move(out), {}};
  if (pending.output.snapshot) pending.snapshot_state = std::move(node.incoming_snapshot);
  node.incoming_snapshot.clear();
  node.pending_writes.push_back(std::move(pending));
  if (!node.manual_persist) persist(id);
}

bool Cluster::has_pending_write(NodeId id) const { return !nodes_.at(id).pending_writes.empty(); }

void Cluster::persist(NodeId id) {
  Node& node = nodes_.at(id);
  // A write steps Persisted, whose output queues behind the writes still
  // waiting; a nested persist() (auto mode) must not jump that queue, or a
  // later output's applies would overtake an earlier one's.
  if (node.persisting) return;
  node.persisting = true;
  while (!node.pending_writes.empty()) {
    PendingWrite pending = std::move(node.pending_writes.front());
    node.pending_writes.erase(node.pending_writes.begin());
    write(id, pending);
  }
  node.persisting = false;
}

void Cluster::write(NodeId id, PendingWrite& pending) {
  Node& node = nodes_.at(id);
  Output& out = pending.output;
  if (out.snapshot) {
    REEF_ASSERT(pending.snapshot_state.size() == out.snapshot->index.value(),
                "harness: snapshot state does not match its meta");
    node.durable.snapshot = *out.snapshot;
    node.durable.entries.clear();
    node.durable_snapshot_state = pending.snapshot_state;
    node.applied = std::move(pending.snapshot_state);
  }
  if (out.hard_state) node.durable.hard_state = *out.hard_state;
  if (!out.entries.empty()) {
    auto& entries = node.durable.entries;
    const Index from = out.entries.front().index;
    entries.erase(
        std::remove_if(entries.begin(), entries.end(), [&](const LogEntry& e) { return e.index >= from; }),
        entries.end());
    REEF_ASSERT(
        entries.empty() ? from == node.durable.snapshot.index.next() : entries.back().index.next() == from,
        "harness: write leaves a gap at ", from.value());
    entries.insert(entries.end(), out.entries.begin(), out.entries.end());
  }
  send_all(id, out.messages_after_persist);
  for (const LogEntry& e : out.committed_entries) {
    REEF_ASSERT(e.index.value() == node.applied.size() + 1, "harness: apply out of order at ",
                e.index.value());
    node.applied.push_back(e);
    checker_.observe_applied(id, e, node.core->term());
  }
  if (!out.entries.empty() || out.snapshot) {
    const Index last =
        node.durable.entries.empty() ? node.durable.snapshot.index : node.durable.entries.back().index;
    const Term term =
        node.durable.entries.empty() ? node.durable.snapshot.term : node.durable.entries.back().term;
    node.core->step(Persisted{last, term});
    run_driver(id);
  }
}

void Cluster::send_all(NodeId id, std::vector<Message>& messages) {
  for (Message& m : messages) {
    checker_.observe_sent(m);
    Envelope env{std::move(m), {}};
    if (std::holds_alternative<InstallSnapshot>(env.message.body)) {
      env.snapshot_state = nodes_.at(id).durable_snapshot_state;
    }
    in_flight_.push_back(std::move(env));
  }
}

bool Cluster::deliver(size_t position) {
  if (position >= in_flight_.size()) return false;
  Envelope env = std::move(in_flight_[position]);
  in_flight_.erase(in_flight_.begin() + static_cast<ptrdiff_t>(position));
  const NodeId from = env.message.from;
  const NodeId to = env.message.to;
  const bool is_snapshot = std::holds_alternative<InstallSnapshot>(env.message.body);
  if (!nodes_.contains(to)) return true;
  if (!connected(from, to)) {
    if (is_snapshot) step(from, SnapshotStatus{to, false});
    return true;
  }
  if (is_snapshot) nodes_.at(to).incoming_snapshot = std::move(env.snapshot_state);
  step(to, std::move(env.message));
  if (is_snapshot) step(from, SnapshotStatus{to, true});
  return true;
}

void Cluster::drop(size_t position) {
  if (position >= in_flight_.size()) return;
  const Message m = in_flight_[position].message;
  in_flight_.erase(in_flight_.begin() + static_cast<ptrdiff_t>(position));
  if (std::holds_alternative<InstallSnapshot>(m.body)) step(m.from, SnapshotStatus{m.to, false});
}

void Cluster::duplicate(size_t position) {
  if (position >= in_flight_.size()) return;
  in_flight_.push_back(in_flight_[position]);
}

void Cluster::reorder(size_t position) {
  if (position >= in_flight_.size()) return;
  Envelope env = std::move(in_flight_[position]);
  in_flight_.erase(in_flight_.begin() + static_cast<ptrdiff_t>(position));
  in_flight_.push_back(std::move(env));
}

size_t Cluster::deliver_all(size_t max_messages) {
  size_t delivered = 0;
  while (!in_flight_.empty() && delivered < max_messages) {
    deliver(0);
    ++delivered;
  }
  return delivered;
}

void Cluster::drop_all() {
  while (!in_flight_.empty()) drop(0);
}

void Cluster::partition(const std::vector<std::set<NodeId>>& groups) {
  group_.clear();
  int g = 0;
  for (const auto& group : groups) {
    for (NodeId id : group) group_[id] = g;
    ++g;
  }
  for (NodeId id : ids_) {
    if (!group_.contains(id)) group_[id] = g++;
  }
}

void Cluster::isolate(NodeId id) {
  std::set<NodeId> rest;
  for (NodeId other : ids_) {
    if (other != id) rest.insert(other);
  }
  partition({rest, {id}});
}

void Cluster::heal() { group_.clear(); }

bool Cluster::connected(NodeId a, NodeId b) const {
  if (group_.empty()) return true;
  return group_.at(a) == group_.at(b);
}

void Cluster::set_manual_persist(NodeId id, bool manual) { nodes_.at(id).manual_persist = manual; }

void Cluster::restart(NodeId id) {
  Node& node = nodes_.at(id);
  node.pending_writes.clear();
  node.incoming_snapshot.clear();
  if (options_.bug == InjectedBug::kForgetVoteOnRestart) node.durable.hard_state.vote.reset();
  auto core = Core::create(node.config, node.durable);
  REEF_ASSERT(core.ok(), "harness: restart of node ", id.value(), " failed: ", core.status().ToString());
  node.core.emplace(*std::move(core));
  // The state machine is rebuilt from the snapshot; committed entries after
  // it are handed out again by the core.
  node.applied = node.durable_snapshot_state;
  checker_.observe_restart(id);
  run_driver(id);
  check();
}

std::optional<NodeId> Cluster::elect(NodeId id) {
  campaign(id);
  deliver_all();
  return leader();
}

std::optional<NodeId> Cluster::leader() const {
  std::optional<NodeId> best;
  for (const auto& [id, node] : nodes_) {
    if (node.core->is_leader() && (!best || node.core->term() > core(*best).term())) best = id;
  }
  return best;
}

std::optional<NodeId> Cluster::run_until_leader(int max_rounds) {
  for (int i = 0; i < max_rounds; ++i) {
    tick_all();
    deliver_all();
    if (auto l = leader()) return l;
  }
  return std::nullopt;
}

std::vector<std::string> Cluster::applied_payloads(NodeId id) const {
  std::vector<std::string> out;
  for (const LogEntry& e : applied(id)) {
    if (e.type == EntryType::kNormal) out.push_back(e.payload);
  }
  return out;
}

void Cluster::check() {
  std::map<NodeId, const Core*> cores;
  for (const auto& [id, node] : nodes_) cores.emplace(id, &*node.core);
  checker_.observe(cores);
}

std::string Cluster::describe() const {
  std::string s;
  for (const auto& [id, node] : nodes_) {
    const Core& c = *node.core;
    absl::StrAppend(&s, "n", id.value(), ":", role_name(c.role()), " t", c.term().value(),
                    " last=", c.log().last_index().value(), " commit=", c.log().committed().value(),
                    " applied=", node.applied.size(), "  ");
  }
  return s;
}

}  // namespace reef::raft::testing
