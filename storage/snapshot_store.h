// SnapshotStore: state-machine snapshots as files in one directory, written
// as a stream of chunks, found again after a crash, and read back chunk by
// chunk so a snapshot can be streamed to a peer and resumed from any byte.
//
// File format (integers little-endian; every byte is covered by a checksum):
//
//   file header, 32 bytes
//     0  magic            8 bytes "REEFSNAP"
//     8  version          u32  format version (1)
//     12 meta_len         u32  bytes of meta, at most kMaxMetaBytes
//     16 meta_checksum    u64  XXH3-64 of the meta bytes
//     24 header_checksum  u64  XXH3-64 of bytes [0, 24)
//   meta, meta_len bytes: FlatBuffers SnapshotFileMetaRecord (encoding/membership.fbs,
//     identifier "RSNM"), verified before use: index, term, voters,
//     outgoing voters, learners
//   records, each a 32-byte header then `length` payload bytes
//     0  type             u32  1 = data chunk, 2 = end
//     4  length           u32  payload bytes: data 1..max_chunk_bytes, end 16
//     8  data_offset      u64  data: position of the chunk's first byte in the
//                              snapshot's data stream; end: total data bytes
//     16 payload_checksum u64  XXH3-64 of the payload
//     24 header_checksum  u64  XXH3-64 of bytes [0, 24) of this header
//   the last record is the only end record; its payload is chunk_count u64
//   and a copy of meta_checksum u64 (ties the tail to this file's header).
//   Nothing follows it.
//
// Checksums and seals: encoding/checksummed_record.h; the meta codec:
// encoding/membership_codec.h.
//
// Names: `snapshot-<index>-<term>.snap`, both numbers zero-padded to 20
// digits, so the lexicographic order of names (FileSystem::list) is the order
// of (index, term). A snapshot being written is `snapshot-<index>-<term>.<n>.tmp`.
//
// Write protocol (SnapshotWriter): header + meta and then every chunk are
// appended to the temp file without syncing; finish() appends the end record,
// syncs the file, renames it to its final name and syncs the directory. Only
// then is it the latest snapshot; every other snapshot file is removed after
// that (and the directory synced again).
//
// Crash behaviour: until the directory sync after the rename, a crash leaves
// at most a temp file (removed at the next open) and the previous snapshot
// intact; after it, the new snapshot is complete and durable because its
// bytes were synced before the rename. A file under a final name is therefore
// never partial unless the media corrupted it.
//
// Open: leftover temp files are removed; final-named files are tried from
// the newest down; the first one whose header, meta, name, record chain and
// (with verify_data_on_open) every chunk checksum are sound becomes latest().
// Corrupt ones are skipped and reported in warnings(); older ones are removed
// once a newer one was fully verified. I/O errors (not corruption) fail open
// rather than fall back to an older snapshot, as does a snapshot in an
// unknown newer format version.
//
// Reading: SnapshotReader verifies the header, meta and end record when it
// opens, then returns chunks whose checksums it verified; any damage is
// DATA_LOSS naming the file and the byte offset. A length field is checked
// against max_chunk_bytes and the file size before anything is allocated for
// it. Readers keep their file open, so a snapshot removed by a newer install
// can still be read to the end by a reader that was already open.
//
// Not thread-safe: one thread uses a store and its writers and readers.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "raft/core/state.h"
#include "storage/file_system.h"

namespace reef::storage {

struct SnapshotStoreOptions {
  // Largest chunk payload written or accepted. add_chunk() splits longer
  // input; a longer length field in a file is corruption.
  uint32_t max_chunk_bytes = 1 << 20;
  // Verify every chunk checksum of the newest snapshot at open (reads it
  // once). Without it, open checks the header, meta and end record only, and
  // chunk damage surfaces when the snapshot is read; older snapshots are then
  // kept until the next install, as a fallback.
  bool verify_data_on_open = true;
};

struct SnapshotInfo {
  raft::SnapshotMeta meta;
  std::string path;
  uint64_t data_bytes = 0;
  uint64_t chunk_count = 0;
};

struct SnapshotChunk {
  uint64_t offset = 0;  // position of data[0] in the snapshot's data stream
  std::string data;
};

class SnapshotReader {
 public:
  static constexpr uint32_t kMaxMetaBytes = 1 << 20;

  // Opens the snapshot file at `path` positioned at `data_offset` (0 ..
  // data_bytes; OUT_OF_RANGE beyond). Verifies header, meta and end record,
  // and the record headers up to the chunk holding `data_offset`.
  static absl::StatusOr<std::unique_ptr<SnapshotReader>> open(FileSystem* fs, const std::string& path,
                                                              uint64_t data_offset = 0,
                                                              const SnapshotStoreOptions& options = {});

  const SnapshotInfo& info() const { return info_; }
  // Data offset of the next byte next() returns.
  uint64_t position() const { return position_; }
  // The next verified chunk (the first one trimmed to start at the opening
  // offset), or nullopt after the last one. After an error, returns it again.
  absl::StatusOr<std::optional<SnapshotChunk>> next();

 private:
  struct RecordHeader {
    uint32_t type = 0;
    uint32_t length = 0;
    uint64_t data_offset = 0;
    uint64_t payload_checksum = 0;
  };

  SnapshotReader(std::unique_ptr<File> file, SnapshotStoreOptions options);
  absl::Status load(uint64_t data_offset);
  absl::Status load_header_and_meta();
  absl::Status load_end_record();
  absl::Status seek(uint64_t data_offset);
  absl::StatusOr<RecordHeader> read_record_header(uint64_t offset);
  absl::Status check_chain(const RecordHeader& header) const;
  absl::StatusOr<std::optional<SnapshotChunk>> read_next();
  absl::Status data_loss(uint64_t offset, absl::string_view what) const;

  std::unique_ptr<File> file_;
  SnapshotStoreOptions options_;
  SnapshotInfo info_;
  uint64_t file_bytes_ = 0;
  uint64_t meta_checksum_ = 0;
  uint64_t records_begin_ = 0;           // file offset of the first record
  uint64_t end_record_ = 0;              // file offset of the end record
  uint64_t next_record_ = 0;             // file offset of the next record to read
  uint64_t next_data_ = 0;               // data offset that record must start at
  uint64_t chunks_read_ = 0;             // records before next_record_
  uint64_t position_ = 0;                // >= next_data_: bytes of the next chunk to drop
  std::optional<RecordHeader> pending_;  // header at next_record_, read by seek()
  bool done_ = false;
  absl::Status broken_;
};

class SnapshotStore;

// Writes one snapshot; made by SnapshotStore::begin(). Must not outlive its
// store. Destroying it before finish() aborts it.
class SnapshotWriter {
 public:
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Appends `data` to the snapshot (split into chunks of at most
  // max_chunk_bytes; empty input writes nothing). Not durable until finish().
  absl::Status add_chunk(absl::string_view data);
  // Makes the snapshot durable and the store's latest, then removes the
  // others. FAILED_PRECONDITION (and aborted) if a snapshot at the same or a
  // higher index became latest meanwhile. After an error the snapshot may or
  // may not have become durable; abort() cleans up the temp file.
  absl::StatusOr<SnapshotInfo> finish();
  // Drops the snapshot and removes its temp file (best effort: a leftover is
  // removed at the next open).
  void abort();

  uint64_t data_bytes() const { return data_bytes_; }
  const std::string& temp_path() const { return temp_path_; }

 private:
  friend class SnapshotStore;
  SnapshotWriter(SnapshotStore* store, std::unique_ptr<File> file, raft::SnapshotMeta meta,
                 std::string temp_path, std::string final_path, uint64_t file_bytes, uint64_t meta_checksum);
  absl::Status failed(absl::Status status);

  enum class State { kOpen, kFailed, kFinished, kAborted };

  SnapshotStore* store_;
  std::unique_ptr<File> file_;
  raft::SnapshotMeta meta_;
  std::string temp_path_;
  std::string final_path_;
  uint64_t file_bytes_;
  uint64_t meta_checksum_;
  uint64_t data_bytes_ = 0;
  uint64_t chunk_count_ = 0;
  State state_ = State::kOpen;
  absl::Status failure_;
};

class SnapshotStore {
 public:
  static constexpr uint32_t kFormatVersion = 1;
  static constexpr size_t kMaxWarnings = 64;

  // Opens the snapshot directory `dir` (created if missing): see the top of
  // this file. `fs` must outlive the store.
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> open(FileSystem* fs, std::string dir,
                                                             SnapshotStoreOptions options = {});
  // The same search for latest() as open(), changing nothing: temp files and
  // superseded snapshots stay and are mentioned in warnings(); NOT_FOUND if
  // `dir` does not exist; begin() fails with FAILED_PRECONDITION. For
  // inspection tools, which must not destroy evidence.
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> open_read_only(FileSystem* fs, std::string dir,
                                                                       SnapshotStoreOptions options = {});
  ~SnapshotStore();
  SnapshotStore(const SnapshotStore&) = delete;
  SnapshotStore& operator=(const SnapshotStore&) = delete;

  // The newest durable, valid snapshot, if any.
  const std::optional<SnapshotInfo>& latest() const { return latest_; }
  // Damage found at open and cleanup that failed after an install, one line
  // each (at most kMaxWarnings, then one line counting the rest).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const std::string& dir() const { return dir_; }

  // Starts writing a snapshot. INVALID_ARGUMENT if meta's configuration is
  // not valid; FAILED_PRECONDITION if latest() is at the same or a higher index.
  absl::StatusOr<std::unique_ptr<SnapshotWriter>> begin(const raft::SnapshotMeta& meta);
  // Reads latest() from `data_offset`; NOT_FOUND when there is none.
  absl::StatusOr<std::unique_ptr<SnapshotReader>> open_reader(uint64_t data_offset = 0) const;

  // `snapshot-<index>-<term>.snap`, zero-padded so names sort by (index, term).
  static std::string file_name(raft::Index index, raft::Term term);

 private:
  friend class SnapshotWriter;
  SnapshotStore(FileSystem* fs, std::string dir, SnapshotStoreOptions options, bool read_only);
  static absl::StatusOr<std::unique_ptr<SnapshotStore>> open_mode(FileSystem* fs, std::string dir,
                                                                  SnapshotStoreOptions options, bool read_only);
  absl::Status prepare_dir();
  // Removes `name` (open) or only reports it (read-only); sets *removed.
  absl::Status discard(const std::string& name, absl::string_view why, bool* removed);

  absl::Status load();
  absl::StatusOr<SnapshotInfo> verify(const std::string& name, raft::Index index, raft::Term term);
  // Called by a writer once its snapshot is durable under its final name.
  void install(const SnapshotInfo& info);
  bool superseded(const raft::SnapshotMeta& meta) const;
  void warn(std::string warning);

  FileSystem* fs_;
  std::string dir_;
  SnapshotStoreOptions options_;
  bool read_only_ = false;
  std::optional<SnapshotInfo> latest_;
  std::vector<std::string> warnings_;
  uint64_t warnings_dropped_ = 0;
  uint64_t next_writer_id_ = 0;
  uint64_t open_writers_ = 0;
};

}  // namespace reef::storage
