#include "transport/frame.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "raft/core/assert.h"

namespace reef::transport {
namespace {

constexpr size_t kMagicOffset = 0;
constexpr size_t kVersionOffset = 4;
constexpr size_t kReservedOffset = 6;
constexpr size_t kLengthOffset = 8;
constexpr size_t kPayloadChecksumOffset = 12;
constexpr size_t kHeaderChecksumOffset = 20;
// The header checks itself with the low 32 bits of its checksum.
constexpr encoding::SealWidth kHeaderSeal = encoding::SealWidth::k32;
static_assert(kHeaderChecksumOffset + static_cast<size_t>(kHeaderSeal) == kFrameHeaderBytes);

// Payload buffers start at most this large and grow as bytes arrive, so an
// announced length is never allocated up front.
constexpr size_t kInitialPayloadReserve = 64 * 1024;

}  // namespace

uint64_t frame_checksum(absl::string_view payload) { return encoding::checksum(payload); }

std::string encode_frame_header(const FrameHeader& header) {
  std::string out(kFrameHeaderBytes, '\0');
  char* p = out.data();
  std::memcpy(p + kMagicOffset, kFrameMagic, sizeof(kFrameMagic));
  encoding::put_u16(p + kVersionOffset, header.version);
  encoding::put_u16(p + kReservedOffset, 0);
  encoding::put_u32(p + kLengthOffset, header.payload_bytes);
  encoding::put_u64(p + kPayloadChecksumOffset, header.payload_checksum);
  encoding::seal(p, kHeaderChecksumOffset, kHeaderSeal);
  return out;
}

std::string encode_frame(absl::string_view payload) {
  REEF_ASSERT(payload.size() <= UINT32_MAX, "frame payload of ", payload.size(), " bytes");
  std::string out = encode_frame_header(
      FrameHeader{kFrameFormatVersion, static_cast<uint32_t>(payload.size()), frame_checksum(payload)});
  out.append(payload.data(), payload.size());
  return out;
}

FrameReader::FrameReader(uint32_t max_payload_bytes) : max_payload_bytes_(max_payload_bytes) {}

bool FrameReader::fail(const absl::Status& status) {
  error_ = absl::Status(status.code(),
                        absl::StrCat("frame at stream offset ", frame_start_, ": ", status.message()));
  return false;
}

bool FrameReader::take_header() {
  const char* h = header_bytes_;
  if (std::memcmp(h + kMagicOffset, kFrameMagic, sizeof(kFrameMagic)) != 0) {
    return fail(absl::InvalidArgumentError(absl::StrCat(
        "bad magic \"", absl::CHexEscape(absl::string_view(h + kMagicOffset, sizeof(kFrameMagic))),
        "\" (expected \"RFRM\": the peer does not speak the ReefDB node protocol)")));
  }
  const uint16_t version = encoding::get_u16(h + kVersionOffset);
  if (version != kFrameFormatVersion) {
    return fail(absl::InvalidArgumentError(
        absl::StrCat("frame format version ", version, "; this node speaks version ", kFrameFormatVersion)));
  }
  if (!encoding::seal_matches(h, kHeaderChecksumOffset, kHeaderSeal)) {
    return fail(absl::DataLossError("header checksum mismatch (damaged header)"));
  }
  if (encoding::get_u16(h + kReservedOffset) != 0) {
    return fail(absl::InvalidArgumentError("reserved header bytes are not zero"));
  }
  const uint32_t length = encoding::get_u32(h + kLengthOffset);
  if (length > max_payload_bytes_) {
    return fail(absl::ResourceExhaustedError(absl::StrCat(
        "payload length ", length, " exceeds the max frame size of ", max_payload_bytes_, " bytes")));
  }
  header_ = FrameHeader{version, length, encoding::get_u64(h + kPayloadChecksumOffset)};
  payload_.reserve(std::min<size_t>(length, kInitialPayloadReserve));
  return true;
}

void FrameReader::finish_payload_if_complete() {
  if (!header_ || payload_.size() != header_->payload_bytes) return;
  if (frame_checksum(payload_) != header_->payload_checksum) {
    fail(absl::DataLossError(absl::StrCat("payload checksum mismatch (", payload_.size(), " bytes)")));
    return;
  }
  ready_.push_back(std::move(payload_));
  payload_ = std::string();
  header_.reset();
  header_filled_ = 0;
  frame_start_ = stream_offset_;
}

absl::Status FrameReader::feed(absl::string_view bytes) {
  while (error_.ok() && !bytes.empty()) {
    size_t taken = 0;
    if (!header_) {
      taken = std::min(bytes.size(), kFrameHeaderBytes - header_filled_);
      std::memcpy(header_bytes_ + header_filled_, bytes.data(), taken);
      header_filled_ += taken;
      stream_offset_ += taken;
      if (header_filled_ == kFrameHeaderBytes && !take_header()) break;
    } else {
      taken = std::min<size_t>(bytes.size(), header_->payload_bytes - payload_.size());
      payload_.append(bytes.data(), taken);
      stream_offset_ += taken;
    }
    bytes.remove_prefix(taken);
    finish_payload_if_complete();
  }
  return error_;
}

std::optional<std::string> FrameReader::pop() {
  if (ready_.empty()) return std::nullopt;
  std::string payload = std::move(ready_.front());
  ready_.pop_front();
  return payload;
}

absl::Status FrameReader::finish() const {
  if (!error_.ok()) return error_;
  if (header_filled_ == 0) return absl::OkStatus();
  if (!header_) {
    return absl::DataLossError(absl::StrCat("frame at stream offset ", frame_start_,
                                            ": stream ended inside the header (", header_filled_, " of ",
                                            kFrameHeaderBytes, " bytes)"));
  }
  return absl::DataLossError(absl::StrCat("frame at stream offset ", frame_start_,
                                          ": stream ended inside the payload (", payload_.size(), " of ",
                                          header_->payload_bytes, " bytes)"));
}

}  // namespace reef::transport
