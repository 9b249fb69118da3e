// reef-sim's argument parsing (sim/cli_args.h): every accepted form, and
// every malformed one rejected with a message instead of a silent default.
// The real binary is exercised by the reef_sim_* CTest entries next to this
// suite (tests/sim/CMakeLists.txt).
#include "sim/cli_args.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace reef::sim::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

absl::StatusOr<CliArgs> parse_line(std::vector<std::string> args) { return parse(args); }

// The error message of a parse that must fail.
std::string error_of(std::vector<std::string> args) {
  absl::StatusOr<CliArgs> parsed = parse(args);
  EXPECT_FALSE(parsed.ok()) << "accepted: " << ::testing::PrintToString(args);
  if (parsed.ok()) return "";
  EXPECT_EQ(parsed.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(parsed.status().message());
}

TEST(ParseNumber, AcceptsWholeDecimalNumbersWithinBounds) {
  EXPECT_EQ(parse_number("0", "n", 0, 10).value(), 0u);
  EXPECT_EQ(parse_number("10", "n", 0, 10).value(), 10u);
  EXPECT_EQ(parse_number("007", "n", 0, 10).value(), 7u);
  EXPECT_EQ(parse_number("18446744073709551615", "n", 0, UINT64_MAX).value(), UINT64_MAX);
}

TEST(ParseNumber, RejectsAnythingThatIsNotOnlyDigits) {
  for (const char* bad : {"", "12x", "x12", "-1", "+3", " 7", "7 ", "0x10", "1e3", "1.5", "١"}) {
    absl::StatusOr<uint64_t> parsed = parse_number(bad, "--seed", 0, UINT64_MAX);
    ASSERT_FALSE(parsed.ok()) << "'" << bad << "'";
    EXPECT_THAT(parsed.status().message(), HasSubstr("--seed"));
    EXPECT_THAT(parsed.status().message(), HasSubstr("is not a number"));
  }
}

TEST(ParseNumber, RejectsOverflowInsteadOfWrapping) {
  absl::StatusOr<uint64_t> parsed = parse_number("18446744073709551616", "--seed", 0, UINT64_MAX);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("too large"));
  EXPECT_FALSE(parse_number("99999999999999999999999999", "n", 0, UINT64_MAX).ok());
}

TEST(ParseNumber, RejectsValuesOutsideTheBoundsAndNamesThem) {
  absl::StatusOr<uint64_t> parsed = parse_number("10", "--nodes", 1, 9);
  ASSERT_FALSE(parsed.ok());
  EXPECT_THAT(parsed.status().message(), HasSubstr("from 1 to 9"));
  EXPECT_FALSE(parse_number("0", "--nodes", 1, 9).ok());
}

TEST(ParseSeedRange, AcceptsInclusiveRangesAndSingleSeeds) {
  SeedRange range = parse_seed_range("1..10").value();
  EXPECT_EQ(range.first, 1u);
  EXPECT_EQ(range.last, 10u);
  EXPECT_EQ(range.count(), 10u);
  EXPECT_EQ(parse_seed_range("5..5").value().count(), 1u);
  range = parse_seed_range("42").value();
  EXPECT_EQ(range.first, 42u);
  EXPECT_EQ(range.last, 42u);
  range = parse_seed_range("18446744073709551615..18446744073709551615").value();
  EXPECT_EQ(range.count(), 1u);
}

TEST(ParseSeedRange, RejectsMalformedAndReversedRanges) {
  for (const char* bad : {"", "..", "1..", "..5", "1...5", "1..5..9", "a..b", "1-5", "1..5x", "-1..5"}) {
    EXPECT_FALSE(parse_seed_range(bad).ok()) << "'" << bad << "'";
  }
  absl::StatusOr<SeedRange> reversed = parse_seed_range("10..1");
  ASSERT_FALSE(reversed.ok());
  EXPECT_THAT(reversed.status().message(), HasSubstr("below the start"));
}

TEST(ParseSeedRange, BoundsTheNumberOfSeeds) {
  EXPECT_EQ(parse_seed_range("1..1000000").value().count(), kSwarmSeedsMax);
  EXPECT_THAT(parse_seed_range("1..1000001").status().message(), HasSubstr("split the range"));
  // The whole seed space: count() would overflow, the parser refuses first.
  EXPECT_FALSE(parse_seed_range("0..18446744073709551615").ok());
}

TEST(ParseRun, ReadsEveryOption) {
  CliArgs args = parse_line({"run", "--seed", "1234", "--nodes", "5", "--duration", "7", "--bug", "lying-fsync",
                             "--trace", "/tmp/t.jsonl"})
                     .value();
  EXPECT_EQ(args.command, Command::kRun);
  EXPECT_EQ(args.run.seed, 1234u);
  EXPECT_EQ(args.run.shape.nodes, 5u);
  EXPECT_EQ(args.run.shape.duration_seconds, 7u);
  EXPECT_THAT(args.run.shape.bugs, ElementsAre("lying-fsync"));
  EXPECT_EQ(args.run.trace_path, "/tmp/t.jsonl");
}

TEST(ParseRun, DefaultsLeaveTheDrawToTheSeed) {
  CliArgs args = parse_line({"run", "--seed", "0"}).value();
  EXPECT_EQ(args.run.seed, 0u);
  EXPECT_EQ(args.run.shape.nodes, 0u);
  EXPECT_FALSE(args.run.shape.duration_seconds.has_value());
  EXPECT_TRUE(args.run.shape.bugs.empty());
  EXPECT_TRUE(args.run.trace_path.empty());
}

TEST(ParseRun, AcceptsNameEqualsValue) {
  CliArgs args = parse_line({"run", "--seed=9", "--bug=a", "--trace=x=y"}).value();
  EXPECT_EQ(args.run.seed, 9u);
  EXPECT_THAT(args.run.shape.bugs, ElementsAre("a"));
  EXPECT_EQ(args.run.trace_path, "x=y");  // only the first '=' separates
}

TEST(ParseRun, RepeatedBugsAreKeptInOrder) {
  CliArgs args = parse_line({"run", "--bug", "b", "--seed", "1", "--bug", "a", "--bug", "b"}).value();
  EXPECT_THAT(args.run.shape.bugs, ElementsAre("b", "a", "b"));
}

TEST(ParseRun, BugSettingsAreAControlRunAndDoNotMixWithBugs) {
  CliArgs args = parse_line({"run", "--seed", "1", "--bug-settings", "lying-fsync"}).value();
  EXPECT_THAT(args.run.shape.bugs, ElementsAre("lying-fsync"));
  EXPECT_TRUE(args.run.shape.bugs_switched_off);
  EXPECT_EQ(reproduce_command("reef-sim", 1, args.run.shape), "reef-sim run --seed 1 --bug-settings lying-fsync");
  EXPECT_THAT(error_of({"run", "--seed", "1", "--bug", "a", "--bug-settings", "b"}), HasSubstr("cannot be mixed"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--bug-settings", "a", "--bug", "b"}), HasSubstr("cannot be mixed"));
}

TEST(ParseRun, RejectsMissingOrRepeatedSeed) {
  EXPECT_THAT(error_of({"run"}), HasSubstr("needs --seed"));
  EXPECT_THAT(error_of({"run", "--nodes", "3"}), HasSubstr("needs --seed"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--seed", "2"}), HasSubstr("--seed given twice"));
}

TEST(ParseRun, RejectsBadNumbers) {
  EXPECT_THAT(error_of({"run", "--seed", "12x"}), HasSubstr("not a number"));
  EXPECT_THAT(error_of({"run", "--seed", "18446744073709551616"}), HasSubstr("too large"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--nodes", "0"}), HasSubstr("--nodes"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--nodes", "10"}), HasSubstr("--nodes"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--duration", "0"}), HasSubstr("--duration"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--duration", "2.5"}), HasSubstr("not a number"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--duration", "86401"}), HasSubstr("out of range"));
}

TEST(ParseRun, RejectsMissingValues) {
  EXPECT_THAT(error_of({"run", "--seed"}), HasSubstr("--seed needs a value"));
  EXPECT_THAT(error_of({"run", "--seed="}), HasSubstr("--seed needs a value"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--bug="}), HasSubstr("--bug needs a value"));
  // A forgotten value is not silently replaced by the next option.
  EXPECT_THAT(error_of({"run", "--trace", "--seed", "1"}), HasSubstr("--trace needs a value"));
}

TEST(ParseRun, RejectsUnknownFlagsAndStrayArguments) {
  EXPECT_THAT(error_of({"run", "--seed", "1", "--sed", "2"}), HasSubstr("unknown option --sed for 'run'"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "--jobs", "2"}), HasSubstr("unknown option --jobs"));
  EXPECT_THAT(error_of({"run", "--seed", "1", "extra"}), HasSubstr("unexpected argument 'extra'"));
  EXPECT_THAT(error_of({"run", "-s", "1"}), HasSubstr("unexpected argument '-s'"));
  EXPECT_THAT(error_of({"run", "--", "1"}), HasSubstr("unexpected argument '--'"));
}

TEST(ParseSwarm, ReadsEveryOption) {
  CliArgs args = parse_line({"swarm", "--seeds", "1..200", "--jobs", "4", "--nodes", "3", "--duration", "10",
                             "--bug", "x", "--bug", "y"})
                     .value();
  EXPECT_EQ(args.command, Command::kSwarm);
  EXPECT_EQ(args.swarm.seeds.first, 1u);
  EXPECT_EQ(args.swarm.seeds.last, 200u);
  EXPECT_EQ(args.swarm.jobs, 4u);
  EXPECT_EQ(args.swarm.shape.nodes, 3u);
  EXPECT_EQ(args.swarm.shape.duration_seconds, 10u);
  EXPECT_THAT(args.swarm.shape.bugs, ElementsAre("x", "y"));
  EXPECT_EQ(parse_line({"swarm", "--seeds=3..4"}).value().swarm.jobs, 0u);  // 0: one per CPU
}

TEST(ParseSwarm, RejectsBadArguments) {
  EXPECT_THAT(error_of({"swarm"}), HasSubstr("needs --seeds"));
  EXPECT_THAT(error_of({"swarm", "--seeds", "5..1"}), HasSubstr("below the start"));
  EXPECT_THAT(error_of({"swarm", "--seeds", "1..5", "--jobs", "0"}), HasSubstr("--jobs"));
  EXPECT_THAT(error_of({"swarm", "--seeds", "1..5", "--jobs", "-2"}), HasSubstr("not a number"));
  EXPECT_THAT(error_of({"swarm", "--seeds", "1..5", "--trace", "f"}), HasSubstr("unknown option --trace"));
  EXPECT_THAT(error_of({"swarm", "--seed", "1"}), HasSubstr("unknown option --seed for 'swarm'"));
}

TEST(ParseCommands, BugsTakesNoArguments) {
  EXPECT_EQ(parse_line({"bugs"}).value().command, Command::kBugs);
  EXPECT_THAT(error_of({"bugs", "--all"}), HasSubstr("takes no arguments"));
}

TEST(ParseCommands, RejectsMissingAndUnknownCommands) {
  EXPECT_THAT(error_of({}), HasSubstr("no command"));
  EXPECT_THAT(error_of({"runn"}), HasSubstr("unknown command 'runn'"));
  EXPECT_THAT(error_of({"--seed", "1"}), HasSubstr("the command comes first"));
}

TEST(ParseCommands, HelpWinsAnywhere) {
  for (std::vector<std::string> line : std::vector<std::vector<std::string>>{{"-h"}, {"--help"}, {"help"}}) {
    CliArgs args = parse_line(line).value();
    EXPECT_EQ(args.command, Command::kHelp);
    EXPECT_EQ(args.help_topic, "");
  }
  EXPECT_EQ(parse_line({"help", "swarm"}).value().help_topic, "swarm");
  EXPECT_EQ(parse_line({"run", "--help"}).value().help_topic, "run");
  // Even after arguments that would be an error on their own.
  CliArgs args = parse_line({"swarm", "--seeds", "9..1", "-h"}).value();
  EXPECT_EQ(args.command, Command::kHelp);
  EXPECT_EQ(args.help_topic, "swarm");
}

TEST(Usage, EachCommandHasItsOwnHelp) {
  EXPECT_THAT(usage(""), HasSubstr("Usage: reef-sim COMMAND"));
  EXPECT_THAT(usage("nonsense"), HasSubstr("Usage: reef-sim COMMAND"));
  EXPECT_THAT(usage("run"), HasSubstr("--trace FILE"));
  EXPECT_THAT(usage("run"), HasSubstr("trace_hash"));
  EXPECT_THAT(usage("run"), HasSubstr("--bug NAME"));
  EXPECT_THAT(usage("swarm"), HasSubstr("--jobs J"));
  EXPECT_THAT(usage("swarm"), HasSubstr("reproduce"));
  EXPECT_THAT(usage("bugs"), HasSubstr("NAME<TAB>description"));
}

TEST(ReproduceCommand, RepeatsTheShapeOfTheSwarm) {
  RunShape shape;
  EXPECT_EQ(reproduce_command("build/bin/reef-sim", 1234, shape), "build/bin/reef-sim run --seed 1234");
  shape.nodes = 5;
  shape.duration_seconds = 10;
  shape.bugs = {"lying-fsync", "vote-before-persist"};
  EXPECT_EQ(reproduce_command("reef-sim", 7, shape),
            "reef-sim run --seed 7 --nodes 5 --duration 10 --bug lying-fsync --bug vote-before-persist");
  // The command parses back to the same run.
  std::vector<std::string> words = absl::StrSplit(reproduce_command("reef-sim", 7, shape), ' ');
  words.erase(words.begin());  // the program
  CliArgs args = parse_line(words).value();
  EXPECT_EQ(args.run.seed, 7u);
  EXPECT_EQ(args.run.shape.nodes, 5u);
  EXPECT_EQ(args.run.shape.duration_seconds, 10u);
  EXPECT_EQ(args.run.shape.bugs, shape.bugs);
}

}  // namespace
}  // namespace reef::sim::cli
