// Wire framing: how node messages (transport/message_codec.h) travel over a
// byte stream such as a TCP connection.
//
// A frame is a fixed 24-byte header followed by the payload. Every multi-byte
// field is little-endian, whatever the host, so nodes of any architecture
// talk to each other:
//
//   offset size  field
//        0    4  magic: the bytes "RFRM"
//        4    2  format version (kFrameFormatVersion)
//        6    2  reserved, zero
//        8    4  payload length in bytes
//       12    8  XXH3-64 of the payload
//       20    4  low 32 bits of XXH3-64 of header bytes [0, 20)
//       24    n  payload
//
// Fields, checksums and the header seal are written with the shared
// encodings (encoding/little_endian.h, encoding/checksummed_record.h).
//
// The header checks itself so that a damaged length is refused at once,
// instead of making the reader wait for (or buffer) bytes that never come.
// Magic and version are judged before the header checksum so that a peer
// speaking another protocol or version gets an error that says so.
//
// A stream is unusable after its first bad frame (there is no way to find
// the next frame boundary you can trust), so FrameReader's errors are sticky
// and the connection should be closed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace reef::transport {

inline constexpr char kFrameMagic[4] = {'R', 'F', 'R', 'M'};
inline constexpr uint16_t kFrameFormatVersion = 1;
inline constexpr size_t kFrameHeaderBytes = 24;

// The header of one frame, as sent; `encode_frame_header` adds magic,
// reserved bytes and the header checksum.
struct FrameHeader {
  uint16_t version = kFrameFormatVersion;
  uint32_t payload_bytes = 0;
  uint64_t payload_checksum = 0;
};

// XXH3-64 of `payload`, as carried in the header.
uint64_t frame_checksum(absl::string_view payload);

// The 24 header bytes for `header`. Exposed so tests can build frames that
// are well-formed except in one chosen way (another version, a huge length).
std::string encode_frame_header(const FrameHeader& header);

// Header plus payload. The payload must fit the 32-bit length field
// (asserted); callers keep it within the receivers' max frame size.
std::string encode_frame(absl::string_view payload);

// Cuts a byte stream into verified payloads. Feed it bytes as they arrive,
// in pieces of any size, and pop the payloads it completed.
//
// Memory: besides completed payloads not yet popped, it holds at most one
// header and one partial payload of at most `max_payload_bytes`, and it
// grows that buffer only as bytes arrive, so a header announcing a large
// frame costs nothing until the bytes are actually sent. A header announcing
// more than the limit is refused as soon as it is complete.
class FrameReader {
 public:
  explicit FrameReader(uint32_t max_payload_bytes);

  // Consumes `bytes`. Returns the stream's error: the first bad frame makes
  // this and every later call fail with the same status (payloads completed
  // before it stay available to pop()). Errors: INVALID_ARGUMENT (magic,
  // version, reserved bytes), RESOURCE_EXHAUSTED (length above the limit),
  // DATA_LOSS (header or payload checksum mismatch); each names the byte
  // offset in the stream where the bad frame starts.
  absl::Status feed(absl::string_view bytes);

  // The oldest completed, verified payload; nullopt if there is none yet.
  std::optional<std::string> pop();

  // OK unless the stream broke, or ended inside a frame: call at end of
  // stream to tell a clean close from a truncated frame (DATA_LOSS).
  absl::Status finish() const;

  const absl::Status& status() const { return error_; }
  // Bytes of the frame in progress (header and payload) held right now.
  size_t partial_bytes() const { return header_filled_ + payload_.size(); }
  uint64_t stream_offset() const { return stream_offset_; }

 private:
  // Judges the complete header; false (and error_ set) if it is refused.
  bool take_header();
  void finish_payload_if_complete();
  // Records the stream's error, prefixed with where the bad frame starts.
  bool fail(const absl::Status& status);

  uint32_t max_payload_bytes_;
  char header_bytes_[kFrameHeaderBytes] = {};
  size_t header_filled_ = 0;
  std::optional<FrameHeader> header_;  // set once the header is complete and sound
  std::string payload_;
  uint64_t frame_start_ = 0;    // stream offset of the frame in progress
  uint64_t stream_offset_ = 0;  // bytes consumed so far
  std::deque<std::string> ready_;
  absl::Status error_;
};

}  // namespace reef::transport
