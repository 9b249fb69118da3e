#include "prod/shell/sql_shell.h"

#include <unistd.h>

#include <iostream>

#include "prod/shell/sql_shell_args.h"
#include "prod/shell/sql_shell_session.h"

namespace reef::prod {
namespace {

constexpr std::string_view kUsage = R"(usage: reefdb sql [--host HOST:PORT] [--consistency LEVEL]

An interactive SQL shell for a ReefDB cluster. Statements end with ';'.
Enter ".help" in the shell for its commands. When standard input is not a
terminal, statements are read from it without prompts (pipe a script in);
the exit status is then 1 if any statement failed.

  --host HOST:PORT     the node to talk to first (default 127.0.0.1:4001); the
                       shell follows the leader and fails over by itself
  --consistency LEVEL  read consistency: none, weak (default), linearizable,
                       strong
  --help               show this text
)";

}  // namespace

int run_sql_shell(const std::vector<std::string>& args) {
  const absl::StatusOr<CliFlags> flags = parse_cli_flags(args, {"host", "consistency"});
  if (!flags.ok()) {
    std::cerr << "reefdb sql: " << flags.status().message() << "\n" << kUsage;
    return 2;
  }
  if (flags->help) {
    std::cout << kUsage;
    return 0;
  }
  SqlShellOptions options;
  options.host = flags->value_or("host", std::string(kDefaultServerAddress));
  const absl::StatusOr<std::string> level = parse_consistency(flags->value_or("consistency", "weak"));
  if (!level.ok()) {
    std::cerr << "reefdb sql: " << level.status().message() << "\n";
    return 2;
  }
  options.consistency = *level;
  options.interactive = isatty(STDIN_FILENO) == 1;
  options.history_path = default_history_path();
  SqlShell shell(std::move(options), std::cout, std::cerr);
  return shell.run(std::cin);
}

}  // namespace reef::prod
