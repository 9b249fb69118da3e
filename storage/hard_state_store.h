// HardStateStore: the durable raft::HardState (term, vote, commit) of one
// node, written so that a crash at any byte leaves either the previous or the
// new value readable, never neither (thesis §3.8: a node must never forget a
// vote it granted or the term it reached).
//
// File `<dir>/hard_state`, exactly two 512-byte slots (one sector each, so a
// torn sector of one slot never touches the other):
//
//   slot at offset 0 and 512, integers little-endian:
//     0  magic       u32  "RFHS"
//     4  version     u16  format version (1)
//     6  body_len    u16  bytes of body (24 in version 1)
//     8  sequence    u64  bumped by every save; slot = sequence % 2
//     16 body             version 1: term u64, vote u64 (0 = none; NodeId 0
//                         is reserved), commit u64
//     16+body_len checksum u64  XXH3-64 of bytes [0, 16 + body_len)
//     rest of the slot: zeros, not covered
//
// (The checksum is a seal, encoding/checksummed_record.h; fields are
// encoding/little_endian.h.)
//
// A save writes the slot NOT holding the current value (sequence + 1) with
// one write_at, then File::sync. A crash before the sync completes can tear
// only that slot; the other still holds the previous value. open() reads both
// slots and takes the valid one (magic, bounds, checksum, sequence parity)
// with the higher sequence.
//
// The file first comes into existence atomically: the first save writes both
// slots into `hard_state.tmp`, syncs it, renames it to `hard_state` and syncs
// the directory. So an existing `hard_state` always had a valid slot once:
// when neither slot is valid now, that is media corruption and open() fails
// with DATA_LOSS naming the file, instead of silently starting from term 0
// (which could let this node vote twice in a term). A missing file means a
// fresh node: the default HardState.
//
// What this does not protect against: silent corruption of the NEWER slot
// while the older one stays intact makes open() return the older value (a
// torn write and a bit flip look the same). Such damage is reported in
// warnings().
//
// A valid newest slot with an unknown version fails open() with
// FAILED_PRECONDITION (written by a newer ReefDB) instead of falling back to
// the older slot, which would roll the state back.
//
// After a failed write or sync the store does not know what is on disk (and
// after a failed fsync, Linux may have dropped the dirty pages): every later
// save fails with FAILED_PRECONDITION; reopen to learn the durable value.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/state.h"
#include "storage/file_system.h"

namespace reef::storage {

class HardStateStore {
 public:
  static constexpr char kFileName[] = "hard_state";
  static constexpr char kTempFileName[] = "hard_state.tmp";
  static constexpr uint16_t kFormatVersion = 1;
  static constexpr uint64_t kSlotBytes = 512;
  static constexpr uint64_t kFileBytes = 2 * kSlotBytes;

  // Opens (does not create) `<dir>/hard_state`, creating `dir` if missing and
  // removing a leftover temp file of an interrupted first save. `fs` must
  // outlive the store.
  static absl::StatusOr<std::unique_ptr<HardStateStore>> open(FileSystem* fs, std::string dir);
  // Reads the same way open() does but changes nothing: a leftover temp file
  // stays and is mentioned in warnings(); NOT_FOUND if `dir` does not exist;
  // save() fails with FAILED_PRECONDITION. For inspection tools.
  static absl::StatusOr<std::unique_ptr<HardStateStore>> open_read_only(FileSystem* fs, std::string dir);

  HardStateStore(const HardStateStore&) = delete;
  HardStateStore& operator=(const HardStateStore&) = delete;

  // The last value that was read at open or saved successfully.
  const raft::HardState& current() const { return current_; }
  // Durable when it returns OK. Saving the current value again is allowed
  // (it still writes: callers decide when a save is needed).
  absl::Status save(const raft::HardState& state);

  // Sequence number of current() (0 for a fresh node); for tests and tools.
  uint64_t sequence() const { return sequence_; }
  const std::string& path() const { return path_; }
  // Damage noticed at open that did not prevent recovery (a slot that was
  // torn by a crash or corrupted), one line each.
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  HardStateStore(FileSystem* fs, std::string dir, bool read_only);

  absl::Status load();
  absl::Status prepare_dir();
  absl::Status create_file(const std::string& slot, uint64_t sequence);
  absl::Status fail(absl::Status status);

  FileSystem* fs_;
  std::string dir_;
  std::string path_;
  bool read_only_ = false;
  std::unique_ptr<File> file_;  // null until the file exists
  raft::HardState current_;
  uint64_t sequence_ = 0;
  absl::Status broken_;  // first write/sync error; saves refuse after it
  std::vector<std::string> warnings_;
};

// One slot's bytes for `state` at `sequence` (exposed for tests that forge
// or inspect slots).
std::string encode_hard_state_slot(const raft::HardState& state, uint64_t sequence);

}  // namespace reef::storage
