// Replication throughput of the sans-IO Raft core: three raft::Core objects in
// one process, no I/O, no test checkers.
//
// What one benchmark iteration is: one loop turn of the cluster. The leader's
// driver first steps kProposalsPerTurn proposals (a real driver gathers every
// client request that arrived since its last turn; 16 stands for a moderately
// loaded server), then every node runs one driver turn:
//
//   step every message that reached it since its previous turn,
//   take_output() once (group commit: one "write" for the whole turn),
//   treat hard state + entries as durable at once,
//   route messages and messages_after_persist straight into the peers' inboxes,
//   count committed entries as applied,
//   step Persisted{last written index, its term}.
//
// Nodes run in id order (the leader, node 1, first) and a message lands in
// its destination's inbox at once, so followers handle the leader's appends
// in the same turn and their acks reach the leader at the start of the next:
// entries proposed in turn t commit in turn t + 1 while turn t + 1's proposals
// are already being replicated, as in a pipelined deployment. Whatever a step
// of Persisted produces stays in the core until that node's next turn, as it
// would in a real event loop.
//
// The figure reported is `committed_entries_per_second`: entries applied on
// the leader during the timed loop, divided by CPU time. After the loop the
// cluster is drained and every node must have applied the same number of
// entries (all that were proposed, plus the leader's no-op).
//
// Memory stays bounded the way a real deployment bounds it: once every node
// has applied far enough, each one steps CompactTo (as after a snapshot) so
// the in-memory logs keep only the last few thousand entries. This is a
// simplification: the bench knows every node's applied index and compacts all
// three to the slowest one, so the leader never needs to send a snapshot (a
// real driver compacts each node on its own after taking a snapshot, and the
// leader ships that snapshot to a follower that fell behind).
//
// `--fixed=<entries per proposal>:<turns>` runs a fixed amount of the same
// work without Google Benchmark, for instruction counts under callgrind.
#include <algorithm>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "raft/core/assert.h"
#include "raft/core/core.h"

namespace reef::bench {
namespace {

using raft::Core;
using raft::CoreConfig;
using raft::Index;
using raft::Message;
using raft::NodeId;
using raft::Output;

constexpr size_t kNodes = 3;
constexpr size_t kPayloadBytes = 100;
constexpr size_t kProposalsPerTurn = 16;
// Entries each node keeps behind the slowest node's applied index; compaction
// runs once twice this many are applied, so its cost is amortised.
constexpr uint64_t kRetainedEntries = 4096;
// Bound on turns spent electing the leader or draining the pipeline.
constexpr int kMaxQuietTurns = 10000;

class BenchCluster {
 public:
  BenchCluster() {
    std::vector<NodeId> ids;
    for (size_t i = 1; i <= kNodes; ++i) ids.emplace_back(i);
    const raft::Configuration configuration = raft::Configuration::of_voters(ids);
    for (NodeId id : ids) {
      CoreConfig config;
      config.id = id;
      config.seed = id.value();
      absl::StatusOr<Core> core = Core::create(config, raft::RecoveredState::bootstrap(configuration));
      REEF_ASSERT(core.ok(), core.status().ToString());
      nodes_.push_back(Node{std::move(*core), {}, 0});
    }
    node(kLeader).core.step(raft::Campaign{});
    run_until_quiet();
    REEF_ASSERT(node(kLeader).core.is_leader(), "node ", kLeader.value(), " did not win the election");
  }

  // The leader's driver gathered `proposals` client requests this turn.
  void propose(size_t proposals, size_t entries_per_proposal, const std::string& payload) {
    Core& leader = node(kLeader).core;
    for (size_t i = 0; i < proposals; ++i) {
      // Fresh strings, as a driver gets them from its clients.
      raft::Propose p{raft::ProposalId(++next_proposal_id_),
                      std::vector<std::string>(entries_per_proposal, payload)};
      leader.step(std::move(p));
    }
    proposed_entries_ += proposals * entries_per_proposal;
  }

  void turn() {
    for (Node& n : nodes_) run_driver(n);
    maybe_compact();
  }

  // Turns until no message is in flight and no core holds output.
  void run_until_quiet() {
    for (int i = 0; i < kMaxQuietTurns; ++i) {
      bool busy = false;
      for (const Node& n : nodes_) busy = busy || !n.inbox.empty() || n.core.has_output();
      if (!busy) return;
      turn();
    }
    REEF_UNREACHABLE("cluster did not go quiet within ", kMaxQuietTurns, " turns");
  }

  uint64_t leader_applied_entries() const { return nodes_[0].applied_entries; }

  // Every node applied everything that was proposed, plus the leader's no-op.
  void check_all_applied() const {
    for (const Node& n : nodes_) {
      REEF_ASSERT(n.applied_entries == proposed_entries_ + 1, "node ", n.core.id().value(), " applied ",
                  n.applied_entries, " of ", proposed_entries_ + 1, " entries");
      REEF_ASSERT(n.core.log().applied() == nodes_[0].core.log().applied(), "applied indexes differ");
    }
  }

 private:
  static constexpr NodeId kLeader = NodeId(1);

  struct Node {
    Core core;
    std::vector<Message> inbox;  // delivered at this node's next turn
    uint64_t applied_entries;
  };

  Node& node(NodeId id) { return nodes_[id.value() - 1]; }

  void run_driver(Node& n) {
    // Swap rather than move so both buffers keep their capacity across turns.
    scratch_.swap(n.inbox);
    for (Message& m : scratch_) n.core.step(std::move(m));
    scratch_.clear();
    if (!n.core.has_output()) return;
    Output out = n.core.take_output();
    REEF_ASSERT(!out.snapshot.has_value(), "no node may fall behind far enough to need a snapshot");
    // Hard state and entries are durable the moment they are handed over, so
    // acknowledgements may go out together with the leader's appends.
    for (Message& m : out.messages) node(m.to).inbox.push_back(std::move(m));
    for (Message& m : out.messages_after_persist) node(m.to).inbox.push_back(std::move(m));
    n.applied_entries += out.committed_entries.size();
    for (const raft::ProposalResult& p : out.proposals) REEF_ASSERT(p.status.ok(), p.status.ToString());
    if (!out.entries.empty()) n.core.step(raft::Persisted{out.entries.back().index, out.entries.back().term});
  }

  void maybe_compact() {
    Index min_applied = nodes_[0].core.log().applied();
    for (const Node& n : nodes_) min_applied = std::min(min_applied, n.core.log().applied());
    if (min_applied < nodes_[0].core.log().first_index() + 2 * kRetainedEntries) return;
    for (Node& n : nodes_) n.core.step(raft::CompactTo{min_applied - kRetainedEntries});
  }

  std::vector<Node> nodes_;
  std::vector<Message> scratch_;
  uint64_t next_proposal_id_ = 0;
  uint64_t proposed_entries_ = 0;
};

void run_throughput(benchmark::State& state, size_t entries_per_proposal) {
  const std::string payload(kPayloadBytes, 'x');
  BenchCluster cluster;
  const uint64_t applied_before = cluster.leader_applied_entries();
  for (auto _ : state) {
    cluster.propose(kProposalsPerTurn, entries_per_proposal, payload);
    cluster.turn();
  }
  const uint64_t committed = cluster.leader_applied_entries() - applied_before;
  // Not timed: finish the pipeline and compare the replicas.
  cluster.run_until_quiet();
  cluster.check_all_applied();
  state.counters["committed_entries_per_second"] =
      benchmark::Counter(static_cast<double>(committed), benchmark::Counter::kIsRate);
  state.counters["entries_per_turn"] = static_cast<double>(kProposalsPerTurn * entries_per_proposal);
}

void BM_Raft3Nodes_1EntryPerProposal(benchmark::State& state) { run_throughput(state, 1); }
void BM_Raft3Nodes_64EntriesPerProposal(benchmark::State& state) { run_throughput(state, 64); }

BENCHMARK(BM_Raft3Nodes_1EntryPerProposal);
BENCHMARK(BM_Raft3Nodes_64EntriesPerProposal);

// A fixed amount of the same work without Google Benchmark's calibration, so
// that instruction counts under `valgrind --tool=callgrind` compare exactly
// between two builds (timings on a shared machine do not).
int run_fixed(size_t entries_per_proposal, uint64_t turns) {
  const std::string payload(kPayloadBytes, 'x');
  BenchCluster cluster;
  for (uint64_t i = 0; i < turns; ++i) {
    cluster.propose(kProposalsPerTurn, entries_per_proposal, payload);
    cluster.turn();
  }
  cluster.run_until_quiet();
  cluster.check_all_applied();
  std::printf("%zu entries per proposal, %" PRIu64 " turns: %" PRIu64 " entries committed on every node\n",
              entries_per_proposal, turns, cluster.leader_applied_entries());
  return 0;
}

}  // namespace
}  // namespace reef::bench

// Usage: raft_throughput_bench [Google Benchmark flags]
//        raft_throughput_bench --fixed=<entries per proposal>:<turns>
int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    size_t entries = 0;
    uint64_t turns = 0;
    if (std::sscanf(argv[i], "--fixed=%zu:%" SCNu64, &entries, &turns) == 2 && entries > 0) {
      return reef::bench::run_fixed(entries, turns);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
