#include "sim/cli_args.h"

#include <charconv>
#include <set>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::sim::cli {
namespace {

constexpr std::string_view kRangeSeparator = "..";

// This absl (20220623, Debian) has its own string_view: std::string_view
// crosses into StrCat and Status through this.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }

bool is_help_flag(std::string_view arg) { return arg == "-h" || arg == "--help"; }

absl::Status error(std::string_view message) { return absl::InvalidArgumentError(av(message)); }

// Walks the arguments after the command and hands out (option, value) pairs.
class OptionReader {
 public:
  OptionReader(const std::vector<std::string>& args, size_t start) : args_(args), next_(start) {}

  bool done() const { return next_ >= args_.size(); }

  // Reads the next "--name VALUE" or "--name=VALUE" into name/value.
  absl::Status next(std::string& name, std::string& value) {
    REEF_ASSERT(!done(), "next() past the end");
    const std::string_view arg = args_[next_++];
    if (arg.substr(0, 2) != "--" || arg.size() == 2) {
      return error(absl::StrCat("unexpected argument '", av(arg), "' (options start with --)"));
    }
    const size_t eq = arg.find('=');
    name = std::string(arg.substr(0, eq));
    if (eq != std::string_view::npos) {
      value = std::string(arg.substr(eq + 1));
    } else if (done() || args_[next_].rfind("--", 0) == 0) {
      // "--trace --seed 3" is a forgotten value, not a file named --seed.
      return error(absl::StrCat(name, " needs a value"));
    } else {
      value = args_[next_++];
    }
    if (value.empty()) return error(absl::StrCat(name, " needs a value"));
    return absl::OkStatus();
  }

 private:
  const std::vector<std::string>& args_;
  size_t next_;
};

// The options run and swarm share. Returns true if `name` was one of them.
absl::StatusOr<bool> parse_shape_option(const std::string& name, const std::string& value, RunShape& shape) {
  if (name == "--nodes") {
    absl::StatusOr<uint64_t> nodes = parse_number(value, "--nodes", 1, kNodesMax);
    if (!nodes.ok()) return nodes.status();
    shape.nodes = static_cast<size_t>(*nodes);
    return true;
  }
  if (name == "--duration") {
    absl::StatusOr<uint64_t> seconds = parse_number(value, "--duration", 1, kDurationSecondsMax);
    if (!seconds.ok()) return seconds.status();
    shape.duration_seconds = *seconds;
    return true;
  }
  if (name == "--bug" || name == "--bug-settings") {
    const bool control = name == "--bug-settings";
    if (!shape.bugs.empty() && shape.bugs_switched_off != control) {
      return error("--bug and --bug-settings cannot be mixed in one run");
    }
    shape.bugs_switched_off = control;
    shape.bugs.push_back(value);
    return true;
  }
  return false;
}

absl::Status unknown_option(std::string_view command, std::string_view name) {
  return error(absl::StrCat("unknown option ", av(name), " for '", av(command), "'"));
}

// Scalar options may be given once: a second --seed is more likely a mistake
// in a script than an intended override.
absl::Status check_once(std::set<std::string>& seen, const std::string& name) {
  if (name != "--bug" && name != "--bug-settings" && !seen.insert(name).second) return error(absl::StrCat(name, " given twice"));
  return absl::OkStatus();
}

absl::Status parse_run(const std::vector<std::string>& args, RunArgs& run) {
  OptionReader reader(args, 1);
  std::set<std::string> seen;
  while (!reader.done()) {
    std::string name, value;
    if (absl::Status s = reader.next(name, value); !s.ok()) return s;
    if (absl::Status s = check_once(seen, name); !s.ok()) return s;
    absl::StatusOr<bool> shape = parse_shape_option(name, value, run.shape);
    if (!shape.ok()) return shape.status();
    if (*shape) continue;
    if (name == "--seed") {
      absl::StatusOr<uint64_t> seed = parse_number(value, "--seed", 0, UINT64_MAX);
      if (!seed.ok()) return seed.status();
      run.seed = *seed;
    } else if (name == "--trace") {
      run.trace_path = value;
    } else {
      return unknown_option("run", name);
    }
  }
  if (!seen.contains("--seed")) return error("run needs --seed S");
  return absl::OkStatus();
}

absl::Status parse_swarm(const std::vector<std::string>& args, SwarmArgs& swarm) {
  OptionReader reader(args, 1);
  std::set<std::string> seen;
  while (!reader.done()) {
    std::string name, value;
    if (absl::Status s = reader.next(name, value); !s.ok()) return s;
    if (absl::Status s = check_once(seen, name); !s.ok()) return s;
    absl::StatusOr<bool> shape = parse_shape_option(name, value, swarm.shape);
    if (!shape.ok()) return shape.status();
    if (*shape) continue;
    if (name == "--seeds") {
      absl::StatusOr<SeedRange> seeds = parse_seed_range(value);
      if (!seeds.ok()) return seeds.status();
      swarm.seeds = *seeds;
    } else if (name == "--jobs") {
      absl::StatusOr<uint64_t> jobs = parse_number(value, "--jobs", 1, kJobsMax);
      if (!jobs.ok()) return jobs.status();
      swarm.jobs = static_cast<size_t>(*jobs);
    } else {
      return unknown_option("swarm", name);
    }
  }
  if (!seen.contains("--seeds")) return error("swarm needs --seeds A..B");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<uint64_t> parse_number(std::string_view text, std::string_view what, uint64_t min,
                                      uint64_t max) {
  REEF_ASSERT(min <= max, "min=", min, " max=", max);
  const auto bounds = [&] { return absl::StrCat(" (a whole number from ", min, " to ", max, ")"); };
  // from_chars alone would accept a leading '-' for signed types and stop at
  // the first non-digit; demanding only digits and the whole text rules out
  // "-1", "+3", " 7", "12x" and "0x10".
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos) {
    return error(absl::StrCat(av(what), ": '", av(text), "' is not a number", bounds()));
  }
  uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range) {
    return error(absl::StrCat(av(what), ": ", av(text), " is too large", bounds()));
  }
  REEF_ASSERT(ec == std::errc() && end == text.data() + text.size(), "digits only: ", av(text));
  if (value < min || value > max) {
    return error(absl::StrCat(av(what), ": ", av(text), " is out of range", bounds()));
  }
  return value;
}

absl::StatusOr<SeedRange> parse_seed_range(std::string_view text) {
  const size_t dots = text.find(kRangeSeparator);
  SeedRange range;
  if (dots == std::string_view::npos) {
    absl::StatusOr<uint64_t> seed = parse_number(text, "--seeds", 0, UINT64_MAX);
    if (!seed.ok()) return seed.status();
    range.first = range.last = *seed;
    return range;
  }
  absl::StatusOr<uint64_t> first = parse_number(text.substr(0, dots), "--seeds start", 0, UINT64_MAX);
  if (!first.ok()) return first.status();
  absl::StatusOr<uint64_t> last =
      parse_number(text.substr(dots + kRangeSeparator.size()), "--seeds end", 0, UINT64_MAX);
  if (!last.ok()) return last.status();
  if (*last < *first) {
    return error(absl::StrCat("--seeds ", av(text), ": the end is below the start (write A..B with A <= B)"));
  }
  // last - first cannot overflow here; + 1 could, so compare before adding.
  if (*last - *first >= kSwarmSeedsMax) {
    return error(absl::StrCat("--seeds ", av(text), ": more than ", kSwarmSeedsMax,
                              " seeds; split the range into several swarms"));
  }
  range.first = *first;
  range.last = *last;
  return range;
}

absl::StatusOr<CliArgs> parse(const std::vector<std::string>& args) {
  CliArgs out;
  if (args.empty()) return error("no command given");
  const std::string& command = args[0];
  if (is_help_flag(command) || command == "help") {
    out.help_topic = args.size() > 1 ? args[1] : "";
    return out;
  }
  if (command.rfind("-", 0) == 0) {
    return error(absl::StrCat("unknown option ", command, " (the command comes first)"));
  }
  // --help anywhere after the command wins over any error in the rest, so
  // "reef-sim run --seed x --help" still shows the help the user asked for.
  for (size_t i = 1; i < args.size(); ++i) {
    if (is_help_flag(args[i])) {
      out.help_topic = command;
      return out;
    }
  }
  if (command == "run") {
    out.command = Command::kRun;
    if (absl::Status s = parse_run(args, out.run); !s.ok()) return s;
  } else if (command == "swarm") {
    out.command = Command::kSwarm;
    if (absl::Status s = parse_swarm(args, out.swarm); !s.ok()) return s;
  } else if (command == "bugs") {
    out.command = Command::kBugs;
    if (args.size() > 1) return error(absl::StrCat("bugs takes no arguments, got '", args[1], "'"));
  } else {
    return error(absl::StrCat("unknown command '", command, "'"));
  }
  return out;
}

namespace {

constexpr std::string_view kOverview =
    "Usage: reef-sim COMMAND [OPTIONS]\n"
    "\n"
    "Runs ReefDB's real node code in a deterministic simulator: one thread, simulated\n"
    "time, a network that drops, duplicates and delays, crashes, pauses, partitions,\n"
    "disk errors and clock drift, all drawn from one seed. Every run ends with every\n"
    "checker (Raft safety, replica agreement, linearizability, liveness after heal).\n"
    "The same seed always gives the same run and the same trace_hash.\n"
    "\n"
    "Commands:\n"
    "  run     Run one seed and print its report as one JSON line.\n"
    "  swarm   Run a range of seeds in parallel processes and summarise.\n"
    "  bugs    List the deliberate bugs --bug can inject.\n"
    "\n"
    "  reef-sim COMMAND --help   shows a command's options.\n"
    "\n"
    "Examples:\n"
    "  reef-sim run --seed 42\n"
    "  reef-sim swarm --seeds 1..500\n"
    "  reef-sim swarm --seeds 1..200 --bug lying-fsync    # the checkers must catch it\n"
    "  reef-sim run --seed 1234 --bug lying-fsync --trace /tmp/t.jsonl   # reproduce one\n"
    "\n"
    "Exit status: 0 every check passed, 1 a check failed, 2 usage error.\n";

constexpr std::string_view kShapeOptions =
    "  --nodes N           Cluster size, 1..9; default: drawn from the seed (3 or 5).\n"
    "  --duration SECONDS  Simulated seconds of faults and load before the heal;\n"
    "                      default 20. The run then waits for everything to converge.\n"
    "  --bug NAME          Inject a deliberate bug (reef-sim bugs lists them); repeatable.\n"
    "  --bug-settings NAME The faults and settings --bug NAME turns on, with the bug\n"
    "                      itself off: a control run, which must pass.\n";

constexpr std::string_view kRunUsage =
    "Usage: reef-sim run --seed S [--nodes N] [--duration SECONDS] [--bug NAME]... [--trace FILE]\n"
    "\n"
    "Runs one simulation. Everything it does (cluster size, fault mix, timing, workload)\n"
    "is drawn from S, so the same command always gives the same run.\n"
    "\n"
    "Options:\n"
    "  --seed S            The seed, 0..18446744073709551615.\n";

constexpr std::string_view kRunUsageTail =
    "  --trace FILE        Write every scheduler event to FILE, one JSON object per line:\n"
    "                      {\"t_us\":1500,\"event\":\"...\"}  (t_us: simulated microseconds).\n"
    "\n"
    "Output: the drawn configuration and progress on stderr; the LAST line on stdout\n"
    "is the report, one JSON object:\n"
    "  ok                true when every check passed (the same as exit status 0)\n"
    "  seed, trace_hash  the run's identity: the same seed prints the same trace_hash\n"
    "  config, nodes, bugs   what the seed drew and what was injected\n"
    "  events, sim_seconds, wall_seconds\n"
    "  ops.ok, ops.failed, ops.unknown   client operations by outcome (unknown: the\n"
    "                    client never learned whether it took effect)\n"
    "  leader_changes\n"
    "  faults            faults injected, by kind\n"
    "  checks            the checkers that ran\n"
    "  violations        what they found, first one first; empty when the run passed\n"
    "  first_violation   the first of them, \"\" when there is none\n"
    "  e.g.  reef-sim run --seed 7 | tail -n 1 | jq '{ok, trace_hash, first_violation}'\n"
    "\n"
    "A failing seed from a swarm reproduces exactly with the command the swarm prints;\n"
    "add --trace FILE to it to see every event up to the violation.\n"
    "\n"
    "Exit status: 0 every check passed, 1 a check failed, 2 usage or I/O error.\n";

constexpr std::string_view kSwarmUsage =
    "Usage: reef-sim swarm --seeds A..B [--jobs J] [--nodes N] [--duration SECONDS] [--bug NAME]...\n"
    "\n"
    "Runs every seed from A to B (both included), each in its own process, J at a time,\n"
    "then prints a summary: seeds run, passed, failed, events, simulated and wall\n"
    "seconds, faults by kind, and for each failing seed its first violation and the\n"
    "exact 'reef-sim run' command that reproduces it alone (add --trace FILE to it to\n"
    "see every event). A seed whose process dies (a signal, or no report) fails too.\n"
    "\n"
    "Options:\n"
    "  --seeds A..B        The seeds to run (at most 1000000; a single seed A also works).\n"
    "  --jobs J            Parallel processes; default: the number of online CPUs.\n";

constexpr std::string_view kSwarmUsageTail =
    "\n"
    "Examples:\n"
    "  reef-sim swarm --seeds 1..1000 --jobs 2\n"
    "  reef-sim swarm --seeds 1..200 --bug vote-before-persist   # expect failures\n"
    "\n"
    "Exit status: 0 every seed passed, 1 a seed failed, 2 usage error.\n";

constexpr std::string_view kBugsUsage =
    "Usage: reef-sim bugs\n"
    "\n"
    "Lists the deliberate bugs --bug NAME can inject, one per line: NAME<TAB>description.\n"
    "Each bug also turns on the faults that expose it; a swarm of 200 seeds with one of\n"
    "them must report a violation, which is how the checkers prove they have teeth.\n";

}  // namespace

std::string usage(std::string_view topic) {
  if (topic == "run") return absl::StrCat(av(kRunUsage), av(kShapeOptions), av(kRunUsageTail));
  if (topic == "swarm") return absl::StrCat(av(kSwarmUsage), av(kShapeOptions), av(kSwarmUsageTail));
  if (topic == "bugs") return std::string(kBugsUsage);
  return std::string(kOverview);
}

std::string reproduce_command(std::string_view program, uint64_t seed, const RunShape& shape) {
  std::string out = absl::StrCat(av(program), " run --seed ", seed);
  if (shape.nodes != 0) absl::StrAppend(&out, " --nodes ", shape.nodes);
  if (shape.duration_seconds) absl::StrAppend(&out, " --duration ", *shape.duration_seconds);
  for (const std::string& bug : shape.bugs) {
    absl::StrAppend(&out, shape.bugs_switched_off ? " --bug-settings " : " --bug ", bug);
  }
  return out;
}

}  // namespace reef::sim::cli
