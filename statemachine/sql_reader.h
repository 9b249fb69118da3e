// SqlReader: a read-only connection beside the state machine's applying
// one (Database::open_reader), answering queries from the newest committed
// state without stopping apply: in WAL mode a reader and the writer never
// wait for each other. Hosts run readers on worker threads (the server's
// ReadPool) so that no query, however long, runs on a node's event loop;
// the simulator runs one inline.
//
// A read sees exactly what was committed when it began: everything the
// state machine applied before its last commit_applied(), which the driver
// calls before it hands out a read. "Now" inside the query is the leader
// time of the last entry in that state, as for reads on the applying
// connection; a deadline interrupts it with a resource-limit error.
//
// One thread at a time. The SqlStateMachine that opened it (whose VFS it
// reads through) must outlive it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "statemachine/applied_record.h"
#include "statemachine/snapshot_stream.h"
#include "statemachine/sql_state_machine.h"

namespace reef::statemachine {

class Database;
class ReaderSnapshot;
class SqliteVfs;

class SqlReader {
 public:
  using Deadline = std::chrono::steady_clock::time_point;

  // Reads the database in `dir` through `files`, the state machine's VFS.
  static absl::StatusOr<std::unique_ptr<SqlReader>> open(const SqlStateMachineOptions& options,
                                                         const SqliteVfs& files, const std::string& dir);
  ~SqlReader();
  SqlReader(const SqlReader&) = delete;
  SqlReader& operator=(const SqlReader&) = delete;

  // Answers an encoded QueryRequest like SqlStateMachine::query(); the
  // query is interrupted once `deadline` passes. Fails only when the
  // replica failed (or UNAVAILABLE while a snapshot replaces the database).
  absl::StatusOr<std::string> query(std::string_view request, Deadline deadline = Deadline::max());

  // A snapshot of the state this reader sees now, which must be at `meta`'s
  // position (INTERNAL otherwise): the read transaction starts here and
  // holds that state while entries go on being applied; the images are
  // read (sqlite3_serialize) when the first chunk is asked for, possibly on
  // another thread, so taking the snapshot costs the caller nothing that
  // grows with the data.
  static absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(std::unique_ptr<SqlReader> reader,
                                                                              const StateSnapshotMeta& meta);

 private:
  friend class ReaderSnapshot;
  SqlReader(const SqlStateMachineOptions& options, const SqliteVfs& files, std::unique_ptr<Database> db);
  // Starts a read transaction and returns the applied record it sees.
  absl::StatusOr<AppliedRecord> begin_read();

  SqlStateMachineOptions options_;
  const SqliteVfs& files_;
  std::unique_ptr<Database> db_;
};

}  // namespace reef::statemachine
