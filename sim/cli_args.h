// Command-line parsing for reef-sim (sim/reef_sim_main.cc), kept apart from
// main so that every rule is unit-tested (tests/sim/reef_sim_cli_test.cc).
//
//   reef-sim run   --seed S [--nodes N] [--duration SECONDS] [--bug NAME]... [--trace FILE]
//   reef-sim swarm --seeds A..B [--jobs J] [--nodes N] [--duration SECONDS] [--bug NAME]...
//   reef-sim bugs
//   reef-sim [COMMAND] --help
//
// Options take their value as the next argument or after '=' (--seed=7).
// Numbers are whole decimal numbers within the bounds below: "12x", "-1",
// "+3", "" and anything that overflows are errors, never a silent 0 or wrap.
// Bug names are only collected here; apply_bugs() (sim/bugs.h) decides which
// exist, so the list has one owner.
//
// The parsed values are all that may reach a run: main turns them into a
// RunConfig and nothing else (terminal, time, environment) influences it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace reef::sim::cli {

// Bounds on what the user may ask for. A Raft cluster beyond nine voters is
// not something the simulator models usefully; a day of simulated time per
// run and a million seeds per swarm are far beyond any useful run and keep
// every product (seconds * 1000, seed arithmetic) far from overflow.
inline constexpr uint64_t kNodesMax = 9;
inline constexpr uint64_t kDurationSecondsMax = 86'400;
inline constexpr uint64_t kJobsMax = 1024;
inline constexpr uint64_t kSwarmSeedsMax = 1'000'000;

enum class Command { kHelp, kRun, kSwarm, kBugs };

// Options shared by run and swarm: everything that shapes a run besides its seed.
struct RunShape {
  size_t nodes = 0;                       // 0: drawn from the seed
  std::optional<uint64_t> duration_seconds;  // nullopt: drawn / default
  std::vector<std::string> bugs;          // in the order given, repeats kept
  bool bugs_switched_off = false;         // given as --bug-settings (control run)
};

struct RunArgs {
  uint64_t seed = 0;
  RunShape shape;
  std::string trace_path;  // empty: no trace
};

// Inclusive on both ends: "5..5" is one seed.
struct SeedRange {
  uint64_t first = 0;
  uint64_t last = 0;
  uint64_t count() const { return last - first + 1; }
};

struct SwarmArgs {
  SeedRange seeds;
  size_t jobs = 0;  // 0: one per online CPU
  RunShape shape;
};

struct CliArgs {
  Command command = Command::kHelp;
  // For kHelp: the command whose help was asked for ("" for the overview).
  std::string help_topic;
  RunArgs run;
  SwarmArgs swarm;
};

// `args` are argv[1..argc). Errors are INVALID_ARGUMENT with a message fit to
// print after "reef-sim: "; the caller adds the usage text and exits 2.
absl::StatusOr<CliArgs> parse(const std::vector<std::string>& args);

// A whole decimal number in [min, max]; `what` names it in the error.
absl::StatusOr<uint64_t> parse_number(std::string_view text, std::string_view what, uint64_t min,
                                      uint64_t max);
// "A..B" with A <= B and at most kSwarmSeedsMax seeds, or a single seed "A".
absl::StatusOr<SeedRange> parse_seed_range(std::string_view text);

// The help text for a command ("run", "swarm", "bugs") or, for anything
// else, the overview.
std::string usage(std::string_view topic);

// The command that reruns one seed of a swarm alone, with the same shape, so
// that a failure can be reproduced and traced (e.g.
// "build/bin/reef-sim run --seed 1234 --bug lying-fsync").
std::string reproduce_command(std::string_view program, uint64_t seed, const RunShape& shape);

}  // namespace reef::sim::cli
