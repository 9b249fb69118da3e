// The byte stream of a state-machine snapshot: what StateMachineSnapshot
// produces chunk by chunk and StateMachineRestore consumes, possibly on
// another replica. Integers little-endian.
//
//   header, 48 bytes
//     0  magic           8 bytes "REEFSMDB"
//     8  version         u32 (2; 1 is still read)
//     12 meta_len        u32 at most kMaxMetaBytes
//     16 image_len       u64 bytes of the SQLite database images
//     24 meta_checksum   u64 XXH3-64 of the meta bytes
//     32 image_checksum  u64 XXH3-64 of the image bytes
//     40 header_checksum u64 XXH3-64 of bytes [0, 40)
//   meta, meta_len bytes: FlatBuffers StateSnapshotMeta (state_snapshot.fbs)
//     applied index and term, configuration, last command id, last leader
//     timestamp, and (version 2) internal_image_len
//   images, image_len bytes: sqlite3_serialize() of the main database (the
//     user's), then (version 2) of the internal schema (sessions; see
//     sql_database.h), internal_image_len bytes. Version 1 had only the main
//     image, with the sessions table inside it; a restore moves it.
//
// The decoder checks the header as soon as its 48 bytes are in, the meta as
// soon as it is complete, bounds the image by the receiver's limit before
// allocating it, and checks the image checksum at the end: any damage is
// DATA_LOSS, anything that is not this format is INVALID_ARGUMENT.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "encoding/checksummed_record.h"
#include "raft/core/state.h"
#include "raft/ports/state_machine.h"
#include "statemachine/command_batch.h"
#include "statemachine/sql_database.h"

namespace reef::statemachine {

inline constexpr size_t kSnapshotHeaderBytes = 48;
inline constexpr uint32_t kMaxMetaBytes = 1 << 20;

// Everything a snapshot says besides the database image.
struct StateSnapshotMeta {
  raft::SnapshotMeta raft;
  CommandId last_command;
  int64_t last_timestamp_ms = 0;
  // Bytes of the internal schema's image at the end of the image region (0
  // in a version 1 stream). Set by ImageSnapshot from its images.
  uint64_t internal_image_len = 0;
};

// A snapshot ready to stream: the header and meta, then the image copies.
class ImageSnapshot final : public raft::StateMachineSnapshot {
 public:
  ImageSnapshot(const StateSnapshotMeta& meta, DatabaseImages images);
  const raft::SnapshotMeta& meta() const override { return meta_.raft; }
  uint64_t size_bytes() const override {
    return prefix_.size() + static_cast<uint64_t>(images_.main.size + images_.internal.size);
  }
  absl::StatusOr<std::optional<std::string>> next_chunk(uint64_t max_bytes) override;

 private:
  StateSnapshotMeta meta_;
  DatabaseImages images_;
  std::string prefix_;  // header + meta
  uint64_t position_ = 0;
};

// Reassembles a snapshot stream. The image goes straight into a
// sqlite3_malloc'ed buffer that the restored database adopts.
class SnapshotDecoder {
 public:
  explicit SnapshotDecoder(uint64_t max_image_bytes);
  ~SnapshotDecoder();
  SnapshotDecoder(const SnapshotDecoder&) = delete;
  SnapshotDecoder& operator=(const SnapshotDecoder&) = delete;

  absl::Status add(absl::string_view bytes);
  // The meta and images of a complete, verified stream. Once only. The
  // internal image is empty for a version 1 stream.
  absl::StatusOr<std::pair<StateSnapshotMeta, DatabaseImages>> finish();

 private:
  absl::Status add_prefix(absl::string_view& bytes);
  absl::Status parse_header();
  absl::Status parse_meta();

  uint64_t max_image_bytes_;
  std::string prefix_;  // header, then header + meta
  uint32_t meta_len_ = 0;
  uint64_t image_len_ = 0;
  uint64_t meta_checksum_ = 0;
  uint64_t image_checksum_ = 0;
  bool header_done_ = false;
  std::optional<StateSnapshotMeta> meta_;
  DatabaseImage image_;
  uint64_t image_received_ = 0;
  encoding::StreamingChecksum image_hash_;
  absl::Status dead_;  // the first error; every later call repeats it
};

}  // namespace reef::statemachine
