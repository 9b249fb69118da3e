// raft_cluster_demo: a short, seeded, randomised run of an in-memory Raft
// cluster (the test harness with real cores), printing what happened.
//
// Every decision (which message to deliver, drop or duplicate, when to
// tick, crash, partition or propose) comes from one seed, so the same seed
// prints the same events and the same trace hash on every machine. The
// cluster safety checker runs after every step; the exit status is non-zero
// if it found a violation or if the cluster failed to make progress.
//
// This is the project's main job until the full simulator lands.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "raft/random.h"
#include "tests/raft/support/cluster.h"

namespace {

using reef::raft::Index;
using reef::raft::NodeId;
using reef::raft::Prng;
using reef::raft::testing::Cluster;

struct Options {
  uint64_t seed = 1;
  uint64_t nodes = 3;
  uint64_t steps = 3000;
  bool verbose = false;
};

constexpr char kUsage[] =
    "Usage: raft_cluster_demo [--seed N] [--nodes N] [--steps N] [--verbose]\n"
    "\n"
    "Runs a seeded, randomised in-memory Raft cluster: messages are delivered\n"
    "out of order, dropped and duplicated; nodes crash and restart from their\n"
    "durable state; the network partitions and heals; clients propose. The\n"
    "cluster safety checker (election safety, log matching, leader\n"
    "completeness, state machine safety) runs after every step.\n"
    "\n"
    "  --seed N     seed for every random decision (default 1)\n"
    "  --nodes N    cluster size, 1 to 7 (default 3)\n"
    "  --steps N    number of random actions, 1 to 10000000 (default 3000)\n"
    "  --verbose    print every leader change, crash and partition\n"
    "  --help       this text\n"
    "\n"
    "Prints a summary and a trace hash; the same seed gives the same hash.\n"
    "Exit status: 0 ok, 1 safety violation or no progress, 2 bad arguments.\n";

bool parse_number(std::string_view text, uint64_t low, uint64_t high, uint64_t* out) {
  return absl::SimpleAtoi(absl::string_view(text.data(), text.size()), out) && *out >= low && *out <= high;
}

std::optional<Options> parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    auto value = [&](uint64_t low, uint64_t high, uint64_t* out) {
      if (i + 1 >= argc || !parse_number(argv[i + 1], low, high, out)) {
        std::fprintf(stderr, "raft_cluster_demo: %s needs a number in [%llu, %llu]\n", argv[i],
                     static_cast<unsigned long long>(low), static_cast<unsigned long long>(high));
        return false;
      }
      ++i;
      return true;
    };
    if (arg == "--help" || arg == "-h") {
      std::fputs(kUsage, stdout);
      std::exit(0);
    } else if (arg == "--seed") {
      if (!value(0, UINT64_MAX, &o.seed)) return std::nullopt;
    } else if (arg == "--nodes") {
      if (!value(1, 7, &o.nodes)) return std::nullopt;
    } else if (arg == "--steps") {
      if (!value(1, 10000000, &o.steps)) return std::nullopt;
    } else if (arg == "--verbose" || arg == "-v") {
      o.verbose = true;
    } else {
      std::fprintf(stderr, "raft_cluster_demo: unknown argument '%s'\n\n%s", argv[i], kUsage);
      return std::nullopt;
    }
  }
  return o;
}

// FNV-1a over the event log: cheap, portable, stable across machines.
class TraceHash {
 public:
  void add(std::string_view event) {
    for (unsigned char c : event) {
      hash_ ^= c;
      hash_ *= 0x100000001b3ULL;
    }
    hash_ ^= 0xff;
    hash_ *= 0x100000001b3ULL;
  }
  uint64_t value() const { return hash_; }

 private:
  uint64_t hash_ = 0xcbf29ce484222325ULL;
};

class Demo {
 public:
  explicit Demo(const Options& o)
      : options_(o), cluster_({.voters = o.nodes, .seed = o.seed}), prng_(o.seed ^ 0x5eed5eed5eed5eedULL) {}

  int run() {
    for (uint64_t step = 0; step < options_.steps && cluster_.checker().ok(); ++step) {
      random_action(step);
      observe(step);
    }
    settle();
    return report();
  }

 private:
  NodeId random_node() { return NodeId(1 + prng_.below(options_.nodes)); }

  void event(uint64_t step, std::string text) {
    trace_.add(text);
    if (options_.verbose) std::printf("[step %6llu] %s\n", static_cast<unsigned long long>(step), text.c_str());
  }

  void random_action(uint64_t step) {
    const uint64_t roll = prng_.below(1000);
    auto& net = cluster_.in_flight();
    if (roll < 550) {
      if (!net.empty()) {
        // Mostly in order, sometimes any message: reordering.
        const size_t at = prng_.chance(1, 4) ? prng_.below(net.size()) : 0;
        cluster_.deliver(at);
      }
    } else if (roll < 580) {
      if (!net.empty()) cluster_.drop(prng_.below(net.size()));
    } else if (roll < 590) {
      if (!net.empty()) cluster_.duplicate(prng_.below(net.size()));
    } else if (roll < 850) {
      cluster_.tick(random_node());
    } else if (roll < 960) {
      const NodeId at = cluster_.leader().value_or(random_node());
      const auto r = cluster_.propose(at, absl::StrCat("put k", proposals_ % 17, "=", proposals_));
      ++proposals_;
      if (r.status.ok()) ++accepted_;
    } else if (roll < 970) {
      const NodeId id = random_node();
      ++crashes_;
      event(step, absl::StrCat("crash+restart n", id.value()));
      cluster_.restart(id);
    } else if (roll < 978 && options_.nodes > 1) {
      const NodeId id = random_node();
      ++partitions_;
      event(step, absl::StrCat("isolate n", id.value()));
      cluster_.isolate(id);
    } else if (roll < 990) {
      event(step, "heal");
      cluster_.heal();
    } else {
      const NodeId id = random_node();
      const uint64_t applied = cluster_.applied(id).size();
      if (applied > 0) {
        const Index to(prng_.between(1, applied));
        if (to > cluster_.core(id).log().snapshot().index) {
          event(step, absl::StrCat("compact n", id.value(), " to ", to.value()));
          cluster_.compact(id, to);
        }
      }
    }
  }

  void observe(uint64_t step) {
    std::optional<NodeId> leader = cluster_.leader();
    if (leader && (leader != last_leader_ || cluster_.core(*leader).term() != last_term_)) {
      last_term_ = cluster_.core(*leader).term();
      ++leader_changes_;
      event(step, absl::StrCat("n", leader->value(), " leads term ", last_term_.value()));
    }
    last_leader_ = leader;
  }

  // Heal, then let the cluster converge so the summary shows real progress.
  void settle() {
    cluster_.heal();
    for (int round = 0; round < 400 && cluster_.checker().ok(); ++round) {
      cluster_.tick_all();
      cluster_.deliver_all();
      if (round == 200) {
        if (auto l = cluster_.leader()) {
          final_probe_ = cluster_.propose(*l, "final").status.ok();
        }
      }
    }
  }

  int report() {
    const auto& checker = cluster_.checker();
    std::printf("raft_cluster_demo seed=%llu nodes=%llu steps=%llu\n",
                static_cast<unsigned long long>(options_.seed), static_cast<unsigned long long>(options_.nodes),
                static_cast<unsigned long long>(options_.steps));
    std::printf("  proposals: %llu submitted, %llu accepted by a leader\n",
                static_cast<unsigned long long>(proposals_), static_cast<unsigned long long>(accepted_));
    std::printf("  faults: %llu crashes, %llu partitions\n", static_cast<unsigned long long>(crashes_),
                static_cast<unsigned long long>(partitions_));
    std::printf("  leadership changes: %llu\n", static_cast<unsigned long long>(leader_changes_));
    uint64_t min_applied = UINT64_MAX;
    for (NodeId id : cluster_.ids()) {
      const auto& core = cluster_.core(id);
      const uint64_t applied = cluster_.applied(id).size();
      min_applied = std::min(min_applied, applied);
      const std::string line = absl::StrCat("n", id.value(), " ", reef::raft::role_name(core.role()), " term=",
                                            core.term().value(), " commit=", core.log().committed().value(),
                                            " applied=", applied);
      trace_.add(line);
      std::printf("  %s\n", line.c_str());
    }
    std::printf("  safety: %s\n", checker.ok() ? "ok (no violation)" : checker.violation()->c_str());
    std::printf("  trace hash: %016llx\n", static_cast<unsigned long long>(trace_.value()));
    if (!checker.ok()) return 1;
    if (!cluster_.leader() || !final_probe_ || min_applied == 0) {
      std::printf("  liveness: FAILED (no leader or the final proposal did not commit everywhere)\n");
      return 1;
    }
    std::printf("  liveness: ok (leader n%llu, final proposal applied on every node)\n",
                static_cast<unsigned long long>(cluster_.leader()->value()));
    return 0;
  }

  Options options_;
  Cluster cluster_;
  Prng prng_;
  TraceHash trace_;
  std::optional<NodeId> last_leader_;
  reef::raft::Term last_term_;
  uint64_t proposals_ = 0, accepted_ = 0, crashes_ = 0, partitions_ = 0, leader_changes_ = 0;
  bool final_probe_ = false;
};

}  // namespace

int main(int argc, char** argv) {
  std::optional<Options> options = parse(argc, argv);
  if (!options) return 2;
  return Demo(*options).run();
}
