// The checksums that make ReefDB's records self-verifying, on disk and on the
// wire. Every format (log record, hard-state slot, snapshot file, state-
// machine snapshot stream, transport frame) has the same shape: a header of
// fixed-width little-endian fields (magic, format version, lengths; see
// encoding/little_endian.h) carrying the XXH3-64 checksum of the body it
// announces, and, except for the log record, closed by a seal: the checksum
// of the header's own bytes, so a damaged length is refused before anything
// trusts it. This file is the one place that picks the hash and writes and
// checks seals; each format keeps its own field layout, which is its on-disk
// or on-wire contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

#include "absl/strings/string_view.h"

struct XXH3_state_s;

namespace reef::encoding {

// XXH3-64 of `bytes`: the checksum of every record body.
uint64_t checksum(absl::string_view bytes);

// XXH3-64 of bytes that arrive in pieces (a snapshot's database image):
// digest() equals checksum() of everything update() was given.
class StreamingChecksum {
 public:
  StreamingChecksum();
  ~StreamingChecksum();
  StreamingChecksum(const StreamingChecksum&) = delete;
  StreamingChecksum& operator=(const StreamingChecksum&) = delete;

  void update(absl::string_view bytes);
  uint64_t digest() const;

 private:
  struct FreeState {
    void operator()(XXH3_state_s* state) const;
  };
  std::unique_ptr<XXH3_state_s, FreeState> state_;
};

// Width of a header's seal. Files use the whole checksum; a frame header,
// sent with every message, keeps its low 32 bits.
enum class SealWidth : size_t { k32 = 4, k64 = 8 };

// Seals the header at `header`: writes checksum(header[0, covered)) at
// header + covered, little-endian, truncated to `width`.
void seal(char* header, size_t covered, SealWidth width = SealWidth::k64);
// True if the seal at header + covered matches header[0, covered).
bool seal_matches(const char* header, size_t covered, SealWidth width = SealWidth::k64);

}  // namespace reef::encoding
