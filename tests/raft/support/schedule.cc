#include "tests/raft/support/schedule.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::raft::testing {

const char* action_kind_name(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDeliver: return "deliver";
    case ActionKind::kDrop: return "drop";
    case ActionKind::kDuplicate: return "duplicate";
    case ActionKind::kReorder: return "reorder";
    case ActionKind::kDeliverAll: return "deliver_all";
    case ActionKind::kTick: return "tick";
    case ActionKind::kTickAll: return "tick_all";
    case ActionKind::kPropose: return "propose";
    case ActionKind::kReadIndex: return "read_index";
    case ActionKind::kCampaign: return "campaign";
    case ActionKind::kRestart: return "restart";
    case ActionKind::kPersist: return "persist";
    case ActionKind::kPartition: return "partition";
    case ActionKind::kHeal: return "heal";
    case ActionKind::kCompact: return "compact";
    case ActionKind::kTransfer: return "transfer";
    case ActionKind::kMembership: return "membership";
  }
  return "?";
}

uint32_t action_kind_weight(ActionKind kind) {
  switch (kind) {
    case ActionKind::kDeliver: return 30;
    case ActionKind::kDrop: return 4;
    case ActionKind::kDuplicate: return 3;
    case ActionKind::kReorder: return 4;
    case ActionKind::kDeliverAll: return 8;
    case ActionKind::kTick: return 8;
    case ActionKind::kTickAll: return 10;
    case ActionKind::kPropose: return 10;
    case ActionKind::kReadIndex: return 3;
    case ActionKind::kCampaign: return 3;
    case ActionKind::kRestart: return 3;
    case ActionKind::kPersist: return 8;
    case ActionKind::kPartition: return 2;
    case ActionKind::kHeal: return 2;
    case ActionKind::kCompact: return 2;
    case ActionKind::kTransfer: return 2;
    case ActionKind::kMembership: return 2;
  }
  return 0;
}

namespace {

uint8_t node_mask(uint8_t nodes) { return static_cast<uint8_t>((1u << nodes) - 1); }

std::string describe_action(const Action& action) {
  const std::string a = absl::StrCat(action.a);
  const std::string b = absl::StrCat(action.b);
  switch (action.kind) {
    case ActionKind::kHeal: return "heal";
    case ActionKind::kTickAll: return absl::StrCat("tick_all x", 1 + action.b % 3);
    case ActionKind::kTick: return absl::StrCat("tick node#", a, " x", 1 + action.b % 3);
    case ActionKind::kPropose:
      return absl::StrCat("propose node#", a, action.b % 2 == 0 ? " (or leader)" : "");
    case ActionKind::kPartition: return absl::StrCat("partition mask ", a);
    case ActionKind::kCompact: return absl::StrCat("compact node#", a, " pick ", b);
    case ActionKind::kTransfer: return absl::StrCat("transfer node#", a, " -> node#", b);
    case ActionKind::kMembership: return absl::StrCat("membership change ", action.b % 6, " member#", a);
    case ActionKind::kDeliver:
    case ActionKind::kDrop:
    case ActionKind::kDuplicate:
    case ActionKind::kReorder: return absl::StrCat(action_kind_name(action.kind), " msg#", a);
    case ActionKind::kDeliverAll: return absl::StrCat("deliver_all up to ", 1 + action.a);
    case ActionKind::kReadIndex:
    case ActionKind::kCampaign:
    case ActionKind::kRestart:
    case ActionKind::kPersist: return absl::StrCat(action_kind_name(action.kind), " node#", a);
  }
  return "?";
}

// Plays one schedule. Node and message numbers in actions are reduced
// modulo what exists when the action runs; "node#a" means ids[a % nodes].
class Runner {
 public:
  Runner(const Schedule& schedule, const RunOptions& options)
      : schedule_(schedule), options_(options), cluster_(cluster_options(schedule, options)) {
    for (size_t i = 0; i < cluster_.ids().size(); ++i) {
      if ((schedule_.manual_persist_mask >> i) & 1u) cluster_.set_manual_persist(cluster_.ids()[i], true);
    }
  }

  RunResult run() {
    const size_t count = std::min(schedule_.actions.size(), options_.max_actions);
    for (size_t i = 0; i < count && !failed(); ++i) {
      current_ = i;
      apply(schedule_.actions[i]);
      ++result_.actions_run;
      if (options_.trace != nullptr) {
        *options_.trace << i << ": " << describe_action(schedule_.actions[i]) << "  -> "
                        << cluster_.describe() << " in-flight=" << cluster_.in_flight().size() << "\n";
      }
    }
    if (!failed() && options_.check_liveness) liveness();
    if (!failed()) check_proposal_results();
    if (result_.violation) result_.violation = absl::StrCat(*result_.violation, "\n  ", where());
    result_.committed_entries = cluster_.checker().committed_entries();
    for (NodeId id : cluster_.ids()) {
      result_.max_term = std::max(result_.max_term, cluster_.core(id).term().value());
    }
    result_.final_state = cluster_.describe();
    return std::move(result_);
  }

 private:
  static ClusterOptions cluster_options(const Schedule& schedule, const RunOptions& options) {
    REEF_ASSERT(schedule.nodes >= 3 && schedule.nodes <= 5, "schedule with ", schedule.nodes, " voters");
    REEF_ASSERT(schedule.learners <= 1, "schedule with ", schedule.learners, " learners");
    ClusterOptions o;
    o.voters = schedule.nodes;
    o.learners = schedule.learners;
    o.seed = schedule.seed;
    o.bug = options.bug;
    const Schedule s = schedule;
    o.configure = [s](CoreConfig& config) {
      config.election_timeout_ticks = s.election_timeout_ticks;
      config.heartbeat_interval_ticks = 1;
      config.pre_vote = s.pre_vote;
      config.check_quorum = s.check_quorum || s.lease_reads;
      // Leases assume bounded clock drift: only lockstep schedules use them.
      config.lease_reads = s.lease_reads;
      if (s.tight_flow_control) {
        config.max_inflight_messages = 2;
        config.max_entries_per_message = 2;
      }
    };
    return o;
  }

  bool failed() const { return result_.violation.has_value(); }
  NodeId node(uint8_t a) const { return cluster_.ids()[a % cluster_.ids().size()]; }

  std::string where() const {
    if (current_ >= schedule_.actions.size())
      return absl::StrCat("in the liveness phase; ", cluster_.describe());
    return absl::StrCat("at action ", current_, " (", describe_action(schedule_.actions[current_]), "); ",
                        cluster_.describe());
  }

  // After every step of the cluster: pick up a checker violation, remember
  // the highest commit index ever seen, and judge newly answered reads.
  void observe() {
    if (!cluster_.checker().ok() && !failed()) result_.violation = *cluster_.checker().violation();
    for (NodeId id : cluster_.ids())
      max_commit_seen_ = std::max(max_commit_seen_, cluster_.core(id).log().committed());
    for (NodeId id : cluster_.ids()) {
      std::vector<ReadResult>& reads = cluster_.reads(id);
      for (size_t& seen = reads_seen_[id]; seen < reads.size(); ++seen) check_read(id, reads[seen]);
    }
  }

  void check_read(NodeId id, const ReadResult& read) {
    if (!read.status.ok()) return;
    ++result_.reads_ok;
    auto it = read_floor_.find(read.id);
    REEF_ASSERT(it != read_floor_.end(), "harness: unknown read id ", read.id.value());
    if (read.read_index < it->second && !failed()) {
      result_.violation = absl::StrCat("read linearizability: node ", id.value(), " got read index ",
                                       read.read_index.value(), " for read ", read.id.value(), ", but index ",
                                       it->second.value(), " was already committed when the read was asked");
    }
  }

  void deliver_some(size_t max_messages) {
    for (size_t i = 0; i < max_messages && !cluster_.in_flight().empty() && !failed(); ++i) {
      cluster_.deliver(0);
      observe();
    }
  }

  void tick(NodeId id, int times) {
    if (retired_.contains(id)) return;  // shut down
    for (int i = 0; i < times && !failed(); ++i) {
      cluster_.tick(id);
      observe();
    }
  }

  void tick_all() {
    for (NodeId id : cluster_.ids()) tick(id, 1);
  }

  void propose(NodeId id, std::string payload) {
    const ProposalResult r = cluster_.propose(id, payload);
    if (r.status.ok()) note_accepted(r, std::move(payload));
    observe();
  }

  void note_accepted(const ProposalResult& r, std::string payload) {
    ++result_.accepted_proposals;
    REEF_ASSERT(r.first_index == r.last_index, "one payload, one entry");
    accepted_[{r.first_index, r.term}] = std::move(payload);
  }

  // A ProposalResult promises: if an entry of `term` is ever applied at
  // `index`, it is this proposal. Checked on every node's state machine.
  void check_proposal_results() {
    for (NodeId id : cluster_.ids()) {
      for (const LogEntry& e : cluster_.applied(id)) {
        auto it = accepted_.find({e.index, e.term});
        if (it == accepted_.end() || (e.type == EntryType::kNormal && e.payload == it->second)) continue;
        result_.violation = absl::StrCat("proposal result: node ", id.value(), " applied (index ",
                                         e.index.value(), ", term ", e.term.value(), ") = '", e.payload,
                                         "' but proposal '", it->second, "' was reported there");
        return;
      }
    }
  }

  void apply(const Action& action) {
    auto& net = cluster_.in_flight();
    const size_t queued = net.size();
    switch (action.kind) {
      case ActionKind::kDeliver:
        if (queued > 0) cluster_.deliver(action.a % queued);
        break;
      case ActionKind::kDrop:
        if (queued > 0) cluster_.drop(action.a % queued);
        break;
      case ActionKind::kDuplicate:
        if (queued > 0) cluster_.duplicate(action.a % queued);
        break;
      case ActionKind::kReorder:
        if (queued > 0) cluster_.reorder(action.a % queued);
        break;
      case ActionKind::kDeliverAll:
        deliver_some(std::min<size_t>(1 + action.a, options_.deliver_all_max_messages));
        break;
      case ActionKind::kTick:
        if (schedule_.lease_reads && !options_.lease_clock_drift) {
          for (int i = 0; i < 1 + action.b % 3; ++i) tick_all();  // clocks move together
        } else {
          tick(node(action.a), 1 + action.b % 3);
        }
        break;
      case ActionKind::kTickAll:
        for (int i = 0; i < 1 + action.b % 3; ++i) tick_all();
        break;
      case ActionKind::kPropose: {
        NodeId at = node(action.a);
        if (action.b % 2 == 0) at = cluster_.leader().value_or(at);
        propose(at, absl::StrCat("p", next_payload_++));
        break;
      }
      case ActionKind::kReadIndex: {
        const ReadId id(next_read_++);
        read_floor_[id] = max_commit_seen_;
        cluster_.read_index(node(action.a), id);
        break;
      }
      case ActionKind::kCampaign:
        if (!retired_.contains(node(action.a))) cluster_.campaign(node(action.a));
        break;
      case ActionKind::kRestart:
        cluster_.restart(node(action.a));
        ++result_.restarts;
        break;
      case ActionKind::kPersist: cluster_.persist(node(action.a)); break;
      case ActionKind::kPartition: {
        std::set<NodeId> side;
        std::set<NodeId> other;
        for (size_t i = 0; i < cluster_.ids().size(); ++i) {
          ((action.a >> i) & 1u ? side : other).insert(cluster_.ids()[i]);
        }
        partition({side, other});
        break;
      }
      case ActionKind::kHeal: partition({}); break;
      case ActionKind::kCompact: compact(node(action.a), action.b); break;
      case ActionKind::kTransfer: {
        NodeId from = node(action.a);
        if (!cluster_.core(from).is_leader()) from = cluster_.leader().value_or(from);
        cluster_.transfer(from, node(action.b));
        break;
      }
      case ActionKind::kMembership: change_membership(action.a, action.b); break;
    }
    retire_removed();
    observe();
  }

  // The leader is asked for one change (refusals are normal: one in
  // flight, no entry of its term committed yet).
  void change_membership(uint8_t a, uint8_t b) {
    const std::optional<NodeId> leader = cluster_.leader();
    if (!leader) return;
    const Core& core = cluster_.core(*leader);
    const Configuration latest = core.configuration_at(core.log().last_index());
    const std::vector<NodeId> members = latest.members();
    const NodeId member = members[a % members.size()];
    std::vector<MembershipChange> changes;
    switch (b % 6) {
      case 0: changes = {{MembershipOp::kAddLearner, fresh_node()}}; break;
      case 1: changes = {{MembershipOp::kAddVoter, fresh_node()}}; break;
      case 2:
        changes = {{latest.is_voter(member) ? MembershipOp::kAddLearner : MembershipOp::kAddVoter, member}};
        break;
      case 3: changes = {{MembershipOp::kRemove, member}}; break;
      case 4: changes = {{MembershipOp::kRemove, member}, {MembershipOp::kAddVoter, fresh_node()}}; break;
      default: changes = {{MembershipOp::kAddVoter, fresh_node()}, {MembershipOp::kAddVoter, fresh_node()}}; break;
    }
    for (const MembershipChange& c : changes) {
      if (c.node.value() == 0) return;  // no fresh node left
    }
    const ProposalResult r = cluster_.change_membership(*leader, std::move(changes));
    if (r.status.ok()) ++result_.membership_changes;
  }

  // A node never a member yet, created if needed (at most kMaxNodes in all);
  // NodeId(0) when none is left.
  NodeId fresh_node() {
    for (NodeId id : cluster_.ids()) {
      if (!ever_member_.contains(id) && !taken_.contains(id)) {
        taken_.insert(id);
        return id;
      }
    }
    if (cluster_.ids().size() >= kMaxNodes) return NodeId(0);
    const NodeId id(cluster_.ids().back().value() + 1);
    cluster_.add_node(id);
    taken_.insert(id);
    return id;
  }

  // Remembers who has been a member, and shuts down for good every node
  // that was a member of a committed configuration and is in neither the
  // leader's committed configuration (not joint) nor its latest one.
  void retire_removed() {
    taken_.clear();
    const std::optional<NodeId> leader = cluster_.leader();
    if (!leader) return;
    const Core& core = cluster_.core(*leader);
    const Configuration latest = core.configuration_at(core.log().last_index());
    for (NodeId id : latest.members()) ever_member_.insert(id);
    const Configuration& committed = core.configuration_at(core.log().committed());
    for (NodeId id : committed.members()) {
      ever_member_.insert(id);
      committed_member_.insert(id);
    }
    if (committed.is_joint()) return;
    bool changed = false;
    for (NodeId id : cluster_.ids()) {
      if (committed_member_.contains(id) && !committed.is_member(id) && !latest.is_member(id) &&
          retired_.insert(id).second) {
        changed = true;
      }
    }
    if (changed) partition(last_groups_);
  }

  // Partitions the live nodes; retired ones are each cut off alone.
  void partition(std::vector<std::set<NodeId>> groups) {
    last_groups_ = groups;
    for (std::set<NodeId>& g : groups) {
      for (NodeId id : retired_) g.erase(id);
    }
    if (groups.empty() && !retired_.empty()) {
      std::set<NodeId> live;
      for (NodeId id : cluster_.ids()) {
        if (!retired_.contains(id)) live.insert(id);
      }
      groups.push_back(std::move(live));
    }
    if (groups.empty()) {
      cluster_.heal();
    } else {
      cluster_.partition(groups);
    }
  }

  // Snapshot somewhere in (current snapshot, applied]: the harness's applied
  // list is what its durable snapshot can hold.
  void compact(NodeId id, uint8_t pick) {
    const uint64_t applied = cluster_.applied(id).size();
    const uint64_t snapshot = cluster_.core(id).log().snapshot().index.value();
    if (applied <= snapshot) return;
    const Index index(snapshot + 1 + pick % (applied - snapshot));
    // A node added to the cluster that caught up through the log from
    // index 1 never saw the bootstrap configuration (it lives in the first
    // members' index-0 snapshot, not in the log), so its configuration_at()
    // is empty before its own configuration entry. Like raft::Node (which
    // takes no snapshot until it applied a configuration,
    // node_snapshots.cc), the harness does not compact there: such a
    // snapshot could not be recovered.
    if (cluster_.core(id).configuration_at(index).empty()) return;
    cluster_.compact(id, index);
    ++result_.compactions;
  }

  // Heal, let every node persist promptly, and give the cluster time: a
  // leader must emerge and a fresh proposal must reach every state machine.
  void liveness() {
    current_ = schedule_.actions.size();
    partition({});
    for (NodeId id : cluster_.ids()) {
      cluster_.set_manual_persist(id, false);
      cluster_.persist(id);
      observe();
    }
    std::vector<std::string> probes;
    std::optional<Term> probe_term;
    for (int round = 0; round < options_.liveness_rounds && !failed(); ++round) {
      tick_all();
      deliver_some(100000);
      if (failed()) return;
      if (std::optional<NodeId> leader = cluster_.leader();
          leader && probe_term != cluster_.core(*leader).term()) {
        // One probe per leader term; a refused one (transfer under way) is
        // retried next round.
        std::string payload = absl::StrCat("live", next_payload_++);
        const ProposalResult r = cluster_.propose(*leader, payload);
        retire_removed();
        observe();
        if (r.status.ok()) {
          note_accepted(r, payload);
          probes.push_back(std::move(payload));
          probe_term = r.term;
        }
      }
      for (const std::string& probe : probes) {
        if (applied_everywhere(probe)) return;
      }
    }
    if (failed()) return;
    result_.liveness_failure = absl::StrCat(
        "liveness: after ", options_.liveness_rounds, " healed rounds ",
        probes.empty() ? "no leader accepted a proposal" : "no fresh proposal was applied on every node",
        "; ", cluster_.describe());
  }

  // On every member of the leader's configuration (a removed node is not
  // expected to keep up).
  bool applied_everywhere(const std::string& payload) const {
    const std::optional<NodeId> leader = cluster_.leader();
    if (!leader) return false;
    const Core& core = cluster_.core(*leader);
    for (NodeId id : core.configuration_at(core.log().last_index()).members()) {
      const auto& applied = cluster_.applied(id);
      const bool has = std::any_of(applied.rbegin(), applied.rend(), [&](const LogEntry& e) {
        return e.type == EntryType::kNormal && e.payload == payload;
      });
      if (!has) return false;
    }
    return true;
  }

  const Schedule& schedule_;
  RunOptions options_;
  Cluster cluster_;
  RunResult result_;
  size_t current_ = 0;
  uint64_t next_payload_ = 1;
  uint64_t next_read_ = 1;
  Index max_commit_seen_;
  std::map<ReadId, Index> read_floor_;
  std::map<std::pair<Index, Term>, std::string> accepted_;  // (index, term) -> payload
  std::map<NodeId, size_t> reads_seen_;
  // Membership: at most this many nodes ever, so partition masks cover them.
  static constexpr size_t kMaxNodes = 8;
  std::set<NodeId> ever_member_;       // in some configuration a leader held: never added again
  std::set<NodeId> committed_member_;  // in some committed configuration
  std::set<NodeId> taken_;    // fresh nodes already named in the change being built
  std::set<NodeId> retired_;  // removed by a committed change: shut down for good
  std::vector<std::set<NodeId>> last_groups_;
};

}  // namespace

std::string describe(const Schedule& s) {
  std::string out = absl::StrCat(
      "Schedule{nodes=", s.nodes, " learners=", s.learners, " seed=", s.seed,
      " election_timeout=", s.election_timeout_ticks, " pre_vote=", s.pre_vote,
      " check_quorum=", s.check_quorum, " tight_flow=", s.tight_flow_control, " lease_reads=", s.lease_reads,
      " manual_persist_mask=", s.manual_persist_mask, " actions=", s.actions.size(), "}\n");
  for (size_t i = 0; i < s.actions.size(); ++i)
    absl::StrAppend(&out, "  ", i, ": ", describe_action(s.actions[i]), "\n");
  absl::StrAppend(&out, "  bytes:");
  for (uint8_t byte : to_bytes(s)) absl::StrAppend(&out, " ", byte);
  absl::StrAppend(&out, "\n");
  return out;
}

void showValue(const Schedule& schedule, std::ostream& os) { os << describe(schedule); }

Schedule from_bytes(std::span<const uint8_t> bytes) {
  Schedule s;
  auto byte = [&](size_t i) -> uint8_t { return i < bytes.size() ? bytes[i] : 0; };
  s.nodes = static_cast<uint8_t>(3 + byte(0) % 3);
  s.learners = static_cast<uint8_t>((byte(0) / 3) % 2);
  const uint8_t flags = byte(1);
  s.pre_vote = (flags & 1u) != 0;
  s.check_quorum = (flags & 2u) != 0;
  s.tight_flow_control = (flags & 4u) != 0;
  s.lease_reads = (flags & 32u) != 0;
  if (s.lease_reads) s.check_quorum = true;  // leases require it
  s.election_timeout_ticks = static_cast<uint8_t>(3 + ((flags >> 3) & 3u));
  s.manual_persist_mask = byte(2) & node_mask(s.nodes + s.learners);
  s.seed = byte(3);
  constexpr size_t kHeader = 4;
  for (size_t i = kHeader; i + 3 <= bytes.size() && s.actions.size() < kMaxDecodedActions; i += 3) {
    s.actions.push_back(Action{static_cast<ActionKind>(bytes[i] % kActionKinds), bytes[i + 1], bytes[i + 2]});
  }
  return s;
}

std::vector<uint8_t> to_bytes(const Schedule& s) {
  std::vector<uint8_t> out;
  out.push_back(static_cast<uint8_t>(s.nodes - 3 + 3 * s.learners));
  out.push_back(static_cast<uint8_t>((s.pre_vote ? 1u : 0u) | (s.check_quorum ? 2u : 0u) |
                                     (s.tight_flow_control ? 4u : 0u) | (s.lease_reads ? 32u : 0u) |
                                     ((s.election_timeout_ticks - 3u) & 3u) << 3));
  out.push_back(s.manual_persist_mask);
  out.push_back(s.seed);
  for (const Action& a : s.actions) {
    out.push_back(static_cast<uint8_t>(a.kind));
    out.push_back(a.a);
    out.push_back(a.b);
  }
  return out;
}

Schedule random_schedule(Prng& prng, size_t actions) {
  Schedule s;
  s.nodes = static_cast<uint8_t>(3 + prng.below(3));
  s.learners = prng.chance(1, 4) ? 1 : 0;
  s.seed = static_cast<uint8_t>(prng.below(256));
  s.election_timeout_ticks = static_cast<uint8_t>(3 + prng.below(4));
  s.pre_vote = prng.chance(3, 4);
  s.check_quorum = prng.chance(3, 4);
  s.tight_flow_control = prng.chance(1, 4);
  s.lease_reads = prng.chance(1, 4);
  if (s.lease_reads) s.check_quorum = true;
  for (uint8_t i = 0; i < s.nodes + s.learners; ++i) {
    if (prng.chance(1, 3)) s.manual_persist_mask |= static_cast<uint8_t>(1u << i);
  }
  uint32_t total = 0;
  for (uint8_t k = 0; k < kActionKinds; ++k) total += action_kind_weight(static_cast<ActionKind>(k));
  for (size_t i = 0; i < actions; ++i) {
    uint64_t pick = prng.below(total);
    uint8_t k = 0;
    while (pick >= action_kind_weight(static_cast<ActionKind>(k)))
      pick -= action_kind_weight(static_cast<ActionKind>(k++));
    s.actions.push_back(Action{static_cast<ActionKind>(k), static_cast<uint8_t>(prng.below(256)),
                               static_cast<uint8_t>(prng.below(256))});
  }
  return s;
}

std::string RunResult::summary() const {
  return absl::StrCat(actions_run, " actions, ", committed_entries, " committed, ", accepted_proposals,
                      " proposals accepted, ", membership_changes, " membership changes, ", reads_ok, " reads, ", restarts, " restarts, ", compactions,
                      " compactions, max term ", max_term);
}

RunResult run_schedule(const Schedule& schedule, const RunOptions& options) {
  return Runner(schedule, options).run();
}

Schedule minimize_schedule(const Schedule& schedule, const std::function<bool(const Schedule&)>& still_fails,
                           size_t max_runs) {
  Schedule best = schedule;
  size_t runs = 0;
  for (size_t chunk = std::max<size_t>(best.actions.size() / 2, 1); runs < max_runs; chunk /= 2) {
    for (size_t start = 0; start < best.actions.size() && runs < max_runs;) {
      Schedule candidate = best;
      const size_t end = std::min(start + chunk, candidate.actions.size());
      candidate.actions.erase(candidate.actions.begin() + static_cast<ptrdiff_t>(start),
                              candidate.actions.begin() + static_cast<ptrdiff_t>(end));
      ++runs;
      if (still_fails(candidate)) {
        best = std::move(candidate);  // the next chunk has moved to `start`
      } else {
        start = end;
      }
    }
    if (chunk == 1) break;
  }
  return best;
}

}  // namespace reef::raft::testing
