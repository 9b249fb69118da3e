#include "statemachine/wal_checkpointer.h"

#include <chrono>
#include <utility>

#include "absl/strings/str_cat.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

absl::StatusOr<std::unique_ptr<WalCheckpointer>> WalCheckpointer::open(const DatabaseOptions& options,
                                                                       const std::string& files_vfs,
                                                                       const std::string& dir) {
  absl::StatusOr<std::unique_ptr<Database>> db = Database::open_checkpointer(options, files_vfs, dir);
  if (!db.ok()) return db.status();
  return std::unique_ptr<WalCheckpointer>(new WalCheckpointer(*std::move(db)));
}

WalCheckpointer::WalCheckpointer(std::unique_ptr<Database> db) : db_(std::move(db)), thread_([this] { run(); }) {}

WalCheckpointer::~WalCheckpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

absl::Status WalCheckpointer::request() {
  absl::Status error;
  {
    std::lock_guard<std::mutex> lock(mu_);
    requested_ = true;
    error = std::exchange(unreported_error_, absl::OkStatus());
  }
  wake_.notify_one();
  return error;
}

// SQLITE_BUSY is no failure: another connection held a lock for a moment
// (the applying one, rebuilding a wal-index header this one caught
// mid-update). It stopped the node under load before. Retried a while; if
// still busy, the next request tries again.
absl::Status WalCheckpointer::checkpoint_when_not_busy() {
  constexpr int kAttempts = 50;
  constexpr auto kPause = std::chrono::milliseconds(10);
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    absl::StatusOr<bool> done = db_->checkpoint();
    if (!done.ok() || *done) {
      if (done.ok()) ++checkpoints_;
      return done.status();
    }
    ++busy_;
    std::unique_lock<std::mutex> lock(mu_);
    if (wake_.wait_for(lock, kPause, [this] { return stopping_; })) return absl::OkStatus();
  }
  return absl::OkStatus();
}

void WalCheckpointer::run() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || requested_; });
      if (stopping_) return;
      requested_ = false;
    }
    absl::Status done = checkpoint_when_not_busy();
    std::lock_guard<std::mutex> lock(mu_);
    if (!done.ok() && unreported_error_.ok()) {
      unreported_error_ = absl::Status(done.code(), absl::StrCat("background ", done.message()));
    }
  }
}

}  // namespace reef::statemachine
