// LogStore: the Raft log (ReefDB's only write-ahead log) as a directory of
// segment files, recovered at open so that every acknowledged append survives
// a crash and every corruption is noticed.
//
// Format. Segment files are named `log-<first index>.seg`, the index
// zero-padded to 20 digits so that the lexicographic order of names
// (FileSystem::list) is the order of the log. A segment is a sequence of
// records, nothing else (no header: the name carries the first index and
// every record carries its own). A record is, little-endian:
//     0  version   u8   record format version (1)
//     1  length    u32  bytes of the body, at most max_entry_bytes + kMaxBodyOverhead
//     5  checksum  u64  XXH3-64 of the body
//    13  body      FlatBuffers fbs::Entry (log_record.fbs, identifier "RLOG"):
//                  term, index, type, payload; verified before use
// (Checksum and fields: encoding/checksummed_record.h, encoding/little_endian.h.)
// The records of a segment have contiguous indexes starting at the one in
// its name; segments follow each other without gaps. A new segment starts
// when the current one would grow past segment_bytes (a record larger than a
// segment still goes alone into its own segment).
//
// Preallocation (LogStoreOptions::preallocate, on by default): a new segment
// is extended with zeros to segment_bytes (File::allocate) before its first
// record, and records are written into that space at the end of the last
// one. A sync that extends a file must also commit its new size to the
// file-system journal; one that only overwrites reserved space flushes the
// data alone (docs/PERFORMANCE.md has the figures). So the last segment may
// end in zeros, which hold no record: recovery reads an all-zero tail of the
// last segment as unused space and the log's end, not as damage. When the
// log moves on to a new segment the old one is first trimmed to its records
// and synced, so every segment but the last ends exactly at its last record.
//
// Writes and crash behaviour (FileSystem durability model: data durable after
// File::sync, names after sync_dir):
//  - append() encodes the whole batch and appends it with one write and one
//    sync per segment it touches. When the batch rolls into a new segment,
//    the old one is trimmed and synced BEFORE the new file is created, so a
//    segment that is not the last one is always complete on disk and ends at
//    its last record; the directory is synced
//    at the end so the new name is durable before append() returns OK.
//    A crash during append leaves the old log plus a prefix of the batch,
//    possibly ending in a torn record in the last segment.
//  - truncate_suffix() removes whole segments newest first, syncing the
//    directory after each removal, then truncates the segment holding the new
//    last entry and syncs it. At every crash point the durable segments are
//    therefore a contiguous prefix of the old log that still holds every
//    entry below the truncation point (removing oldest first, or syncing the
//    directory only once, could leave a hole).
//  - compact_prefix() removes whole segments oldest first, syncing the
//    directory after each, so the durable segments are always a contiguous
//    suffix. It never removes the segment holding the last entry.
//
// Recovery (open): segments are read in order and every record is verified
// (framing, length bound, checksum, FlatBuffer, index). Only the LAST
// segment may end in zeros (unused preallocated space, left in place) or in
// damage, and damage only if no valid record follows it:
// that is the torn write of a crash (partial record, zeros, garbage); it is
// cut off (truncated, then synced) and described in recovery_report().
// Everything else is DATA_LOSS naming the file, the byte offset and the
// affected index range, and nothing is changed on disk: a bad record before
// the tail or with a valid record after it (corruption in the middle), a
// damaged segment that is not the last, a checksummed record with the wrong
// index, an unknown format version or a term below its predecessor's, an
// empty segment that is not the last, and a gap or overlap between segment
// names. An empty last segment (created, then crashed before its first
// record was durable) is removed. Finally the last segment and the directory
// are synced: after a process crash (not a machine crash) the bytes and names
// recovery just read may exist only in the page cache, and entries the caller
// has seen must not be taken back by a later power failure. A missing last or
// first segment cannot be told apart from a shorter or compacted log; the
// caller checks first_index() against its snapshot. Every length read from
// disk is bounded before anything is allocated for it.
//
// open_read_only() runs exactly the same scan but changes nothing: no
// directory is created, a torn tail is left in place and only described (the
// store reads up to where recovery would cut), an empty last segment is
// skipped, not removed, and nothing is synced. The inspection tool
// (reef-storage verify) uses it so that looking at a damaged log cannot
// destroy the evidence.
//
// After any failed write, sync, truncate or removal the store refuses further
// changes and reads (the state on disk is unknown until the next open). Not
// thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/log_entry.h"
#include "raft/core/types.h"
#include "storage/file_system.h"

namespace reef::storage {

// The largest entry payload the log stores (and recovery reads back).
inline constexpr uint32_t kMaxStoredEntryBytes = 64u << 20;

struct LogStoreOptions {
  // A segment is closed when the next record would take it past this size.
  uint64_t segment_bytes = uint64_t{64} << 20;
  // Largest payload append() accepts; recovery rejects longer bodies.
  uint32_t max_entry_bytes = kMaxStoredEntryBytes;
  // Reserve each new segment's segment_bytes up front and write records into
  // the reserved space (see "Preallocation" at the top of this file).
  bool preallocate = true;
};

// What recovery changed on disk (for open_read_only(): what it would change).
struct RecoveryReport {
  struct CutTail {
    std::string path;
    uint64_t offset = 0;  // where the log now ends in the file
    uint64_t bytes = 0;   // damaged bytes: from offset to the last non-zero byte (zeros after it hold nothing)
    std::string reason;   // why the first cut byte does not start a valid record
  };
  std::optional<CutTail> cut_tail;
  std::vector<std::string> removed_empty_segments;  // paths
  uint64_t segments = 0;                            // after recovery
  uint64_t entries = 0;
};

class LogStore {
 public:
  static constexpr uint8_t kFormatVersion = 1;
  static constexpr uint64_t kRecordHeaderBytes = 13;
  // FlatBuffer bytes around the payload (vtable, fields, alignment), with margin.
  static constexpr uint64_t kMaxBodyOverhead = 256;

  // Opens (creating the directory if missing) and recovers the log in `dir`:
  // see the top of this file. `fs` must outlive the store.
  static absl::StatusOr<std::unique_ptr<LogStore>> open(FileSystem& fs, std::string dir,
                                                        LogStoreOptions options = {});
  // The same recovery scan as open(), without modifying anything (see the top
  // of this file). NOT_FOUND if `dir` does not exist. append(),
  // truncate_suffix() and compact_prefix() fail with FAILED_PRECONDITION.
  static absl::StatusOr<std::unique_ptr<LogStore>> open_read_only(FileSystem& fs, std::string dir,
                                                                  LogStoreOptions options = {});
  ~LogStore();
  LogStore(const LogStore&) = delete;
  LogStore& operator=(const LogStore&) = delete;

  // Appends contiguous entries after last_index() (any start index >= 1 when
  // the log is empty), durably: OK means every entry survives a crash.
  // INVALID_ARGUMENT for a gap, bad index or oversized payload.
  absl::Status append(const std::vector<raft::LogEntry>& entries);
  // Removes every entry with index >= from (no-op if there is none).
  absl::Status truncate_suffix(raft::Index from);
  // Removes whole segments whose entries are all <= up_to, never the last
  // segment; first_index() may stay below up_to.
  absl::Status compact_prefix(raft::Index up_to);

  // Entries with index in [from, to), read from disk and verified again
  // (DATA_LOSS on damage since open). OUT_OF_RANGE when a non-empty range
  // reaches outside [first, last + 1); an empty range (from == to) is an
  // empty result wherever it is.
  absl::StatusOr<std::vector<raft::LogEntry>> read(raft::Index from, raft::Index to);
  // OUT_OF_RANGE outside [first_index(), last_index()].
  absl::StatusOr<raft::Term> term_at(raft::Index index) const;

  bool empty() const { return segments_.empty(); }
  // Index(0) when empty.
  raft::Index first_index() const;
  raft::Index last_index() const;

  const RecoveryReport& recovery_report() const { return report_; }
  const std::string& dir() const { return dir_; }
  size_t segment_count() const { return segments_.size(); }

  // `log-<20-digit index>.seg`.
  static std::string segment_name(raft::Index first);

 private:
  struct Segment {
    uint64_t first = 0;
    std::string path;
    std::unique_ptr<File> file;
    uint64_t bytes = 0;
    std::vector<uint64_t> offsets;  // of each record
    std::vector<uint64_t> terms;
    uint64_t last() const { return first + offsets.size() - 1; }
    uint64_t end_of(size_t i) const { return i + 1 < offsets.size() ? offsets[i + 1] : bytes; }
  };

  LogStore(FileSystem& fs, std::string dir, LogStoreOptions options, bool read_only);
  absl::Status recover();
  absl::Status load_segment(Segment& segment, bool is_last, std::optional<uint64_t> next_first);
  absl::Status poison(absl::Status status);
  // failed_, or FAILED_PRECONDITION for a read-only store.
  absl::Status check_writable() const;
  absl::Status remove_segment_file(const Segment& segment);
  // With preallocate: reserves segment_bytes for the last segment's file.
  absl::Status reserve(File& file);

  FileSystem& fs_;
  std::string dir_;
  LogStoreOptions options_;
  bool read_only_ = false;
  std::vector<Segment> segments_;
  RecoveryReport report_;
  absl::Status failed_;
  uint64_t previous_term_ = 0;  // recovery: term of the entry before the segment being loaded
};

}  // namespace reef::storage
