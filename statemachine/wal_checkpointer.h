// WalCheckpointer: WAL checkpoints on a thread and a connection of their
// own, so that the applying connection (on the node's loop) never copies
// the WAL into the database files itself: a checkpoint writes up to
// checkpoint_wal_pages pages and syncs twice, a stall the loop does not
// take. SQLite's WAL is built for a checkpointer beside the writer (it may
// be another process): the writer keeps appending while the checkpointer
// copies the frames no reader still needs, and the writer restarts the WAL
// from its start once a checkpoint has copied it all.
//
// Durability is unchanged (docs/STATE_MACHINE.md, "On-disk SQLite"):
// commits are in the WAL, make_durable() syncs it; a crash mid-checkpoint
// leaves frames that recovery copies again.
//
// The server turns it on (SqlStateMachineOptions::checkpoint_in_background);
// the simulator checkpoints inline, deterministically.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "statemachine/options.h"

namespace reef::statemachine {

class Database;

class WalCheckpointer {
 public:
  // Opens the connection on the caller's thread and starts the thread.
  static absl::StatusOr<std::unique_ptr<WalCheckpointer>> open(const DatabaseOptions& options,
                                                               const std::string& files_vfs, const std::string& dir);
  // Lets a running checkpoint finish, then joins the thread.
  ~WalCheckpointer();
  WalCheckpointer(const WalCheckpointer&) = delete;
  WalCheckpointer& operator=(const WalCheckpointer&) = delete;

  // Asks for a checkpoint (one more while one runs is folded into it) and
  // returns the error of a finished one not reported yet: the disk failed,
  // and the caller must stop trusting the replica.
  absl::Status request();

  // Checkpoints run to the end, and attempts another connection's lock
  // turned away (retried), so far.
  uint64_t checkpoints() const { return checkpoints_.load(); }
  uint64_t busy_attempts() const { return busy_.load(); }

 private:
  explicit WalCheckpointer(std::unique_ptr<Database> db);
  void run();
  absl::Status checkpoint_when_not_busy();

  std::unique_ptr<Database> db_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stopping_ = false;
  absl::Status unreported_error_;
  std::atomic<uint64_t> checkpoints_{0};
  std::atomic<uint64_t> busy_{0};
  std::thread thread_;  // last: started once everything it reads exists
};

}  // namespace reef::statemachine
