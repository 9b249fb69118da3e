#include "prod/server/dev_cluster_console.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace reef::prod {
namespace {

constexpr char kCommandList[] = "commands: status, restart N, stop N, help";

ConsoleCommand invalid(std::string error) {
  return ConsoleCommand{.kind = ConsoleCommand::Kind::kInvalid, .error = std::move(error)};
}

ConsoleCommand node_command(ConsoleCommand::Kind kind, const std::vector<absl::string_view>& words,
                            int nodes) {
  int node = 0;
  if (words.size() != 2 || !absl::SimpleAtoi(words[1], &node) || node < 1 || node > nodes) {
    return invalid(
        absl::StrCat(words[0], " needs one node number, 1..", nodes, " (e.g. `", words[0], " 1`)"));
  }
  return ConsoleCommand{.kind = kind, .node = node};
}

}  // namespace

const char kConsoleHelp[] =
    "Commands (one a line on stdin):\n"
    "  status      each node: pid, running or how it exited\n"
    "  restart N   start node N again; a running node N is first stopped with SIGTERM\n"
    "  stop N      stop node N with SIGTERM (a leader hands over first); the others keep running\n"
    "  help        this list\n"
    "Ctrl-C (SIGINT) or SIGTERM stops every node and exits.\n";

ConsoleCommand parse_console_command(absl::string_view line, int nodes) {
  line = absl::StripAsciiWhitespace(line);
  const std::vector<absl::string_view> words =
      absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
  if (words.empty()) return ConsoleCommand{};
  if (words[0] == "restart") return node_command(ConsoleCommand::Kind::kRestart, words, nodes);
  if (words[0] == "stop") return node_command(ConsoleCommand::Kind::kStop, words, nodes);
  if (words.size() == 1 && words[0] == "status") return ConsoleCommand{.kind = ConsoleCommand::Kind::kStatus};
  if (words.size() == 1 && (words[0] == "help" || words[0] == "?")) {
    return ConsoleCommand{.kind = ConsoleCommand::Kind::kHelp};
  }
  return invalid(absl::StrCat("unknown command '", line, "'; ", kCommandList));
}

}  // namespace reef::prod
