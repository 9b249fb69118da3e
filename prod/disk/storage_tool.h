// reef-storage / reefdb storage: inspects a ReefDB node storage directory without changing it.
//
//   reef-storage verify DIR   checks the hard state, every log record and every
//                             snapshot in DIR, then whether they fit together
//   reef-storage dump DIR     one line per log record: index, term, type, payload size
//
// DIR is a node's storage directory (storage/node_storage.h): DIR/hard_state,
// DIR/log/, DIR/snapshots/. Every store is opened read-only: the same scans
// recovery runs, but nothing is truncated, removed or synced. An operator
// looking at a damaged node must not destroy the evidence, and a torn tail
// that the next open would cut is reported, not cut.
//
// Exit status: 0 sound (a torn tail alone is the normal result of a crash and
// still sound), 1 damage or an I/O error, 2 usage errors (including a DIR that
// does not exist, which is almost always a typo rather than a lost node).
#pragma once

namespace reef::prod {

// argv[0] is the command's name; argv[1] the subcommand, argv[2] DIR.
// Returns the exit status above.
int run_storage_tool(int argc, char** argv);

}  // namespace reef::prod
