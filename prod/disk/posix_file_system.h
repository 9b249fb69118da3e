// PosixFileSystem: storage::FileSystem over real files with POSIX calls.
//
// It gives exactly the durability model documented in storage/file_system.h
// and nothing more, so that code which is correct over SimFileSystem is
// correct here:
//  - File::sync() is fdatasync(2): data and the size needed to read it back,
//    not timestamps.
//  - sync_dir() opens the directory O_RDONLY|O_DIRECTORY and fsync(2)s it,
//    which is what makes a create, rename or unlink in it durable. open(),
//    rename() and remove() do NOT sync the directory themselves: the storage
//    layer batches that (one directory fsync after a rename, not one per step).
//  - create_dir() syncs the parent of every directory it creates, because the
//    interface promises directories are created durably (the simulator never
//    loses one), and a directory that vanishes on crash would take every
//    durable file in it along.
//
// Writes and reads loop over EINTR and short transfers. append() writes at
// the size fstat(2) reports rather than using O_APPEND, because on Linux
// O_APPEND makes pwrite(2) ignore its offset and would break write_at().
// A File is therefore not safe for concurrent appends from several threads;
// the log store has one writer per file.
//
// Errors: every failure is an absl::Status "<operation> <path>: <strerror>
// (errno N)", with the errno mapped as storage/file_system.h lists. File
// descriptors are opened O_CLOEXEC so that a spawned process never inherits
// (and keeps alive) a log segment.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/file_system.h"

namespace reef::prod {

// The Status for a failed system call: the code from `err` (an errno value),
// the message "<operation> <path>: <strerror> (errno N)".
absl::Status errno_status(int err, absl::string_view operation, absl::string_view path);

class PosixFileSystem final : public storage::FileSystem {
 public:
  PosixFileSystem() = default;

  absl::StatusOr<std::unique_ptr<storage::File>> open(const std::string& path,
                                                      storage::OpenMode mode) override;
  absl::Status remove(const std::string& path) override;
  absl::Status rename(const std::string& from, const std::string& to) override;
  absl::StatusOr<std::vector<std::string>> list(const std::string& dir) override;
  absl::Status sync_dir(const std::string& dir) override;
  absl::Status create_dir(const std::string& dir) override;
  absl::StatusOr<bool> exists(const std::string& path) override;
};

}  // namespace reef::prod
