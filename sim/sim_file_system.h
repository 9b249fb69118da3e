// SimFileSystem: an in-memory, deterministic storage::FileSystem that keeps,
// for every file and every directory, what is durable apart from what is
// merely written, and that breaks in the ways real disks break.
//
// Faults it can inject (all driven by its seed, so runs are reproducible):
//  - crash(): every write not covered by a successful File::sync() is lost,
//    and every create, rename or remove not covered by sync_dir() of its
//    directory is undone. Open handles from before the crash stop working.
//    A rename between directories becomes durable with sync_dir() of the
//    target (which also retires the old name, as a journal would); syncing
//    only the source directory makes the old name go without the new one
//    being durable, so the file may vanish: sync the target.
//  - torn writes (SimFaults::torn_writes): on crash, the last unsynced write
//    of a file survives in part: a random number of whole 512-byte sectors,
//    then a partly written sector (a random prefix of its new bytes), then
//    nothing. Earlier unsynced writes to the file are lost whole (their range
//    reads as the old bytes, or zeros past the old end). Sectors are 512-byte
//    units of the file's offsets, as on a disk, so an unaligned write can
//    tear inside its first sector.
//  - EIO on read, write or sync: with a probability (per million calls,
//    capped at always) or on exactly the Nth call of that kind. A failed
//    write or sync changes nothing; after a failed sync the data stays
//    non-durable.
//  - ENOSPC: writes that would take the total size of all files past
//    SimFaults::byte_budget fail with RESOURCE_EXHAUSTED.
//  - silent bit flips: flip_bit() / flip_random_bit() change one stored bit
//    (durable and visible) without any error, like media corruption.
//  - a lying disk (SimFaults::lie_about_file_sync): File::sync() succeeds
//    without making anything durable. Only the simulator's --bug switch sets
//    it, to prove the checkers notice lost acknowledged writes.
//
// Directories are created durably and never removed; that is all the log
// store needs. Paths are normalized ("a//b/" is "a/b", "./a" is "a") the way
// the kernel resolves them; ".." is refused (INVALID_ARGUMENT), as the
// simulator has no directory tree to walk up. Files are held in memory and
// limited to kMaxFileBytes each (OUT_OF_RANGE past it, like EFBIG).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "raft/core/random.h"
#include "storage/file_system.h"

namespace reef::sim {

struct SimFaults {
  uint32_t read_error_per_million = 0;
  uint32_t write_error_per_million = 0;
  uint32_t sync_error_per_million = 0;
  // 1-based call numbers (counted per kind since the file system was made).
  std::optional<uint64_t> fail_read_call;
  std::optional<uint64_t> fail_write_call;
  std::optional<uint64_t> fail_sync_call;
  std::optional<uint64_t> byte_budget;
  bool torn_writes = false;
  // A deliberate bug (reef-sim --bug lying-fsync): File::sync() reports
  // success and makes nothing durable, like a disk that acknowledges writes
  // from a volatile cache. A crash then loses acknowledged data.
  bool lie_about_file_sync = false;

  // No injected faults left, only the disk's nature: a lying disk still
  // lies (it is a deliberate bug, not a fault that heals).
  SimFaults healed() const {
    SimFaults none;
    none.lie_about_file_sync = lie_about_file_sync;
    return none;
  }
};

struct SimFileSystemStats {
  uint64_t reads = 0;
  uint64_t writes = 0;  // append, write_at and truncate
  uint64_t syncs = 0;   // File::sync and sync_dir
  uint64_t injected_errors = 0;
  uint64_t crashes = 0;
  uint64_t torn_writes = 0;
  uint64_t bit_flips = 0;
};

class SimFileSystem final : public storage::FileSystem {
 public:
  static constexpr uint64_t kSectorBytes = 512;
  // Far above any segment or snapshot the tests make, far below what would
  // exhaust memory: an absurd offset becomes an error, not a bad_alloc.
  static constexpr uint64_t kMaxFileBytes = uint64_t{1} << 30;

  explicit SimFileSystem(uint64_t seed);
  ~SimFileSystem() override;

  void set_faults(const SimFaults& faults) { faults_ = faults; }
  const SimFaults& faults() const { return faults_; }
  const SimFileSystemStats& stats() const { return stats_; }
  // Every operation (of any kind) so far; crash-point tests count with it.
  uint64_t operations() const { return operations_; }

  void crash();
  // Flips bit `bit` (0-7) of byte `offset` of `path`. NOT_FOUND/OUT_OF_RANGE
  // if there is no such byte.
  absl::Status flip_bit(const std::string& path, uint64_t offset, int bit);
  // Flips a random bit of a random non-empty file; false if there is none.
  bool flip_random_bit();
  // Bytes of `path` as a reader would see them now (for tests).
  absl::StatusOr<std::string> contents(const std::string& path) const;

  absl::StatusOr<std::unique_ptr<storage::File>> open(const std::string& path,
                                                      storage::OpenMode mode) override;
  absl::Status remove(const std::string& path) override;
  absl::Status rename(const std::string& from, const std::string& to) override;
  absl::StatusOr<std::vector<std::string>> list(const std::string& dir) override;
  absl::Status sync_dir(const std::string& dir) override;
  absl::Status create_dir(const std::string& dir) override;
  absl::StatusOr<bool> exists(const std::string& path) override;

 private:
  friend class SimFile;
  struct Inode {
    std::string data;     // what reads see
    std::string durable;  // what survives a crash
    // The most recent write since the last sync, for tearing on crash.
    struct Write {
      uint64_t offset = 0;
      std::string bytes;
    };
    std::optional<Write> last_unsynced_write;
  };
  enum class OpKind { kRead, kWrite, kSync };

  // "a//b/./c/" -> "a/b/c"; INVALID_ARGUMENT for an empty path, a NUL byte
  // or "..". Errors name `operation` and the path as given.
  static absl::StatusOr<std::string> normalize(absl::string_view operation, const std::string& path);

  absl::Status maybe_fail(OpKind kind, const std::string& path);
  // Refuses (changing nothing) a size past kMaxFileBytes or the byte budget.
  absl::Status check_space(const Inode& inode, uint64_t new_size, const std::string& path) const;
  // Bytes of every visible file but `excluded`.
  uint64_t bytes_except(const Inode* excluded) const;
  bool dir_exists(const std::string& dir) const;
  void tear(Inode& inode);

  raft::Prng prng_;
  SimFaults faults_;
  SimFileSystemStats stats_;
  uint64_t operations_ = 0;
  uint64_t generation_ = 0;                                      // bumped by crash(); stale handles check it
  std::map<std::string, std::shared_ptr<Inode>> names_;          // visible namespace
  std::map<std::string, std::shared_ptr<Inode>> durable_names_;  // namespace after a crash
  std::set<std::string> dirs_;
};

}  // namespace reef::sim
