// The handful of file operations ReefDB's durable storage needs, as an
// interface with two implementations: PosixFileSystem (prod/, real files)
// and SimFileSystem (sim/, in memory, deterministic, fault-injecting).
// Storage code is written once against this interface and runs unchanged
// in production and in the simulator.
//
// Durability model (what storage code may rely on, and what SimFileSystem
// enforces):
//  - Data written to a file is durable only after File::sync() returns OK.
//  - A file's existence under a name (after open with kCreate, rename or
//    remove) is durable only after sync_dir() of its directory returns OK.
//  - After a crash, any write not yet synced may be lost entirely, or torn:
//    a prefix of it (in 512-byte sectors) survives, the last sector may hold
//    a mix of old and new bytes.
//  - An operation that returns an error may or may not have taken effect.
//
// Paths are '/'-separated strings, relative to the working directory or
// absolute; "a//b" and "a/b/" mean "a/b". An empty path or one holding a NUL
// byte is rejected with INVALID_ARGUMENT. Every error names the path it
// concerns. Error codes, the same in both implementations:
//   NOT_FOUND          the file or directory does not exist
//   ALREADY_EXISTS     kCreateNew on an existing file
//   RESOURCE_EXHAUSTED out of space (ENOSPC)
//   OUT_OF_RANGE       an offset or size past what the file system supports
//   FAILED_PRECONDITION wrong kind of object (a directory where a file is
//                      expected or the reverse), or a handle from before a crash
//   UNAVAILABLE        an I/O error (EIO); the operation may be retried

#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace reef::storage {

class File {
 public:
  virtual ~File() = default;

  // Appends at the current end of the file.
  virtual absl::Status append(absl::string_view data) = 0;
  // Writes at `offset`, extending the file if needed (gaps read as zeros).
  virtual absl::Status write_at(uint64_t offset, absl::string_view data) = 0;
  // Reads up to `length` bytes at `offset`; fewer only at the end of file.
  virtual absl::StatusOr<std::string> read_at(uint64_t offset, uint64_t length) = 0;
  // Makes every completed write to this file durable (fdatasync).
  virtual absl::Status sync() = 0;
  virtual absl::Status truncate(uint64_t size) = 0;
  // Extends the file with zeros to at least `size` bytes and reserves the
  // space (posix_fallocate), so that later writes inside it change neither
  // the file's size nor its block map: their sync then flushes data alone,
  // with no file-system journal commit. A file already that long is left
  // alone. Durable after sync(), like a write; until then a crash may undo it.
  virtual absl::Status allocate(uint64_t size) = 0;
  virtual absl::StatusOr<uint64_t> size() = 0;
  virtual const std::string& path() const = 0;
};

enum class OpenMode {
  kExisting,   // fail with NOT_FOUND if the file does not exist
  kCreate,     // create if missing, keep contents otherwise
  kCreateNew,  // fail with ALREADY_EXISTS if the file exists
};

class FileSystem {
 public:
  virtual ~FileSystem() = default;

  virtual absl::StatusOr<std::unique_ptr<File>> open(const std::string& path, OpenMode mode) = 0;
  virtual absl::Status remove(const std::string& path) = 0;
  // Atomically replaces `to` if it exists.
  virtual absl::Status rename(const std::string& from, const std::string& to) = 0;
  // Names (not paths) of the regular files directly inside `dir`, sorted.
  virtual absl::StatusOr<std::vector<std::string>> list(const std::string& dir) = 0;
  // Makes creations, renames and removals inside `dir` durable.
  virtual absl::Status sync_dir(const std::string& dir) = 0;
  // Creates `dir` and any missing parents; OK if it already exists.
  virtual absl::Status create_dir(const std::string& dir) = 0;
  virtual absl::StatusOr<bool> exists(const std::string& path) = 0;
};

// "dir/name" without doubling the separator.
std::string join_path(absl::string_view dir, absl::string_view name);
// The directory part of a path ("." for a bare name).
std::string parent_dir(absl::string_view path);
// OK if `path` can name a file: not empty and free of NUL bytes (which the
// C library would silently cut the path at). INVALID_ARGUMENT otherwise.
absl::Status validate_path(absl::string_view path);

}  // namespace reef::storage
