// SmallRecordFile: a file holding one small sealed record that is replaced
// whole, never edited in place: the node identity (storage/node_identity.h)
// and the registry of peers' incarnations (storage/peer_incarnations.h).
//
// Layout (integers little-endian, encoding/little_endian.h):
//   0  magic     u32  one per kind of file
//   4  version   u16  format version of the body
//   6  reserved  u16  zero
//   8  body_len  u32  at most kMaxBodyBytes
//   12 body          body_len bytes, the kind's own layout
//   12+body_len checksum u64  seal of bytes [0, 12 + body_len)
//                              (encoding/checksummed_record.h)
// Nothing follows it.
//
// Writing: the record goes to `<name>.tmp`, which is synced, renamed over
// `<name>` and the directory synced (storage/file_system.h's durability
// model). A crash leaves the old file or the new one, never a mix; a
// leftover temp file is an unfinished replacement and is ignored.
//
// Reading trusts nothing: a short file, a wrong magic, a length out of range
// or a checksum mismatch is DATA_LOSS naming the file; an unknown version
// is FAILED_PRECONDITION (written by a newer ReefDB).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "storage/file_system.h"

namespace reef::storage {

struct SmallRecordKind {
  uint32_t magic;
  uint16_t version;          // the version written, and the only one read
  absl::string_view what;    // "node identity": for error messages
};

inline constexpr uint32_t kMaxSmallRecordBodyBytes = 1 << 20;

// The record's body, or nullopt when `path` does not exist.
absl::StatusOr<std::optional<std::string>> read_small_record(FileSystem& fs, const std::string& path,
                                                             const SmallRecordKind& kind);

// Replaces `path` with a record holding `body`, durably (see above).
absl::Status write_small_record(FileSystem& fs, const std::string& path, const SmallRecordKind& kind,
                                absl::string_view body);

// The bytes write_small_record() writes (for tests that forge files).
std::string encode_small_record(const SmallRecordKind& kind, absl::string_view body);

}  // namespace reef::storage
