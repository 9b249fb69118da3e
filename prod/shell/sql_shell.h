// `reefdb sql`: the interactive SQL shell (prod/shell/sql_shell_session.h does the
// work; this is the command: flags, terminal detection, standard streams).
//
//   reefdb sql [--host HOST:PORT] [--consistency none|weak|linearizable|strong]
//
// User documentation: docs/CLI.md.
#pragma once

#include <string>
#include <vector>

namespace reef::prod {

// `args` are the arguments after "sql". Reads stdin; prompts and keeps the
// history in ~/.reefdb_history only when stdin is a terminal. Returns the
// process exit status: 0; 1 when a piped script had a failing statement;
// 2 for bad flags.
int run_sql_shell(const std::vector<std::string>& args);

}  // namespace reef::prod
