#include "statemachine/snapshot_stream.h"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "encoding/checksummed_record.h"
#include "encoding/little_endian.h"
#include "encoding/membership_codec.h"
#include "raft/core/assert.h"
#include "state_snapshot_generated.h"

namespace reef::statemachine {
namespace {

constexpr char kMagic[8] = {'R', 'E', 'E', 'F', 'S', 'M', 'D', 'B'};
constexpr uint32_t kVersion = 2;
constexpr uint32_t kOldestReadableVersion = 1;  // sessions inside the main image

using encoding::checksum;
using encoding::get_u32;
using encoding::get_u64;
using encoding::put_u32;
using encoding::put_u64;

// The header is sealed: bytes [0, 40) then their checksum.
constexpr size_t kSealedHeaderBytes = 40;
static_assert(kSealedHeaderBytes + 8 == kSnapshotHeaderBytes);

std::string encode_meta(const StateSnapshotMeta& meta) {
  flatbuffers::FlatBufferBuilder fbb(256);
  const encoding::ConfigurationVectors c = encoding::encode_configuration_vectors(fbb, meta.raft.configuration);
  auto version = fbb.CreateString(sqlite3_libversion());
  auto root = fbs::CreateStateSnapshotMeta(fbb, meta.raft.index.value(), meta.raft.term.value(), c.voters,
                                           c.outgoing_voters, c.learners, meta.last_command.client_id,
                                           meta.last_command.sequence,
                                           meta.last_timestamp_ms, version, meta.internal_image_len);
  fbs::FinishStateSnapshotMetaBuffer(fbb, root);
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

absl::StatusOr<StateSnapshotMeta> decode_meta(const std::string& bytes) {
  flatbuffers::Verifier verifier(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  if (!fbs::VerifyStateSnapshotMetaBuffer(verifier)) {
    return absl::InvalidArgumentError("snapshot meta is not a valid StateSnapshotMeta");
  }
  const fbs::StateSnapshotMeta* in = fbs::GetStateSnapshotMeta(bytes.data());
  absl::StatusOr<raft::Configuration> configuration =
      encoding::decode_configuration_vectors(in->voters(), in->outgoing_voters(), in->learners());
  if (!configuration.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot meta: ", configuration.status().message()));
  }
  StateSnapshotMeta meta;
  meta.raft.index = raft::Index(in->index());
  meta.raft.term = raft::Term(in->term());
  meta.raft.configuration = *std::move(configuration);
  meta.last_command = CommandId{in->last_client_id(), in->last_sequence()};
  meta.last_timestamp_ms = in->last_timestamp_ms();
  meta.internal_image_len = in->internal_image_len();
  return meta;
}

}  // namespace

ImageSnapshot::ImageSnapshot(const StateSnapshotMeta& meta, DatabaseImages images)
    : meta_(meta), images_(std::move(images)) {
  meta_.internal_image_len = static_cast<uint64_t>(images_.internal.size);
  const std::string meta_bytes = encode_meta(meta_);
  REEF_ASSERT(meta_bytes.size() <= kMaxMetaBytes, "snapshot meta of ", meta_bytes.size(), " bytes");
  encoding::StreamingChecksum images_checksum;
  for (const DatabaseImage* image : {&images_.main, &images_.internal}) {
    images_checksum.update(
        absl::string_view(reinterpret_cast<const char*>(image->bytes.get()), static_cast<size_t>(image->size)));
  }
  prefix_.resize(kSnapshotHeaderBytes);
  char* h = prefix_.data();
  std::memcpy(h, kMagic, sizeof(kMagic));
  put_u32(h + 8, kVersion);
  put_u32(h + 12, static_cast<uint32_t>(meta_bytes.size()));
  put_u64(h + 16, static_cast<uint64_t>(images_.main.size + images_.internal.size));
  put_u64(h + 24, checksum(meta_bytes));
  put_u64(h + 32, images_checksum.digest());
  encoding::seal(h, kSealedHeaderBytes);
  prefix_ += meta_bytes;
}

absl::StatusOr<std::optional<std::string>> ImageSnapshot::next_chunk(uint64_t max_bytes) {
  if (max_bytes == 0) return absl::InvalidArgumentError("next_chunk: max_bytes must be positive");
  if (position_ >= size_bytes()) return std::optional<std::string>();
  std::string chunk;
  chunk.reserve(static_cast<size_t>(std::min(max_bytes, size_bytes() - position_)));
  // The stream is three segments back to back: prefix, main image, internal image.
  const std::array<absl::string_view, 3> segments = {
      absl::string_view(prefix_),
      absl::string_view(reinterpret_cast<const char*>(images_.main.bytes.get()),
                        static_cast<size_t>(images_.main.size)),
      absl::string_view(reinterpret_cast<const char*>(images_.internal.bytes.get()),
                        static_cast<size_t>(images_.internal.size))};
  uint64_t segment_start = 0;
  for (absl::string_view segment : segments) {
    const uint64_t segment_end = segment_start + segment.size();
    if (chunk.size() < max_bytes && position_ >= segment_start && position_ < segment_end) {
      const size_t n = static_cast<size_t>(std::min<uint64_t>(max_bytes - chunk.size(), segment_end - position_));
      chunk.append(segment.data() + (position_ - segment_start), n);
      position_ += n;
    }
    segment_start = segment_end;
  }
  return std::optional<std::string>(std::move(chunk));
}

SnapshotDecoder::SnapshotDecoder(uint64_t max_image_bytes) : max_image_bytes_(max_image_bytes) {}

SnapshotDecoder::~SnapshotDecoder() = default;

absl::Status SnapshotDecoder::parse_header() {
  const char* h = prefix_.data();
  if (std::memcmp(h, kMagic, sizeof(kMagic)) != 0) {
    return absl::InvalidArgumentError("not a ReefDB state-machine snapshot (bad magic)");
  }
  if (!encoding::seal_matches(h, kSealedHeaderBytes)) return absl::DataLossError("snapshot header checksum mismatch");
  if (const uint32_t version = get_u32(h + 8); version < kOldestReadableVersion || version > kVersion) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot format version ", version, " is not supported (",
                                                   kOldestReadableVersion, " to ", kVersion, ")"));
  }
  meta_len_ = get_u32(h + 12);
  image_len_ = get_u64(h + 16);
  meta_checksum_ = get_u64(h + 24);
  image_checksum_ = get_u64(h + 32);
  if (meta_len_ > kMaxMetaBytes) return absl::InvalidArgumentError(absl::StrCat("snapshot meta of ", meta_len_, " bytes is too large"));
  if (image_len_ > max_image_bytes_) {
    return absl::ResourceExhaustedError(absl::StrCat("snapshot image of ", image_len_, " bytes exceeds the limit of ",
                                                     max_image_bytes_));
  }
  header_done_ = true;
  return absl::OkStatus();
}

absl::Status SnapshotDecoder::parse_meta() {
  const std::string meta_bytes = prefix_.substr(kSnapshotHeaderBytes);
  if (checksum(meta_bytes) != meta_checksum_) {
    return absl::DataLossError("snapshot meta checksum mismatch");
  }
  auto meta = decode_meta(meta_bytes);
  if (!meta.ok()) return meta.status();
  if (meta->internal_image_len > image_len_) {
    return absl::InvalidArgumentError(absl::StrCat("snapshot meta: internal image of ", meta->internal_image_len,
                                                   " bytes in an image region of ", image_len_));
  }
  meta_ = *std::move(meta);
  if (image_len_ == 0) return absl::OkStatus();
  image_.bytes.reset(static_cast<unsigned char*>(sqlite3_malloc64(image_len_)));
  if (image_.bytes == nullptr) {
    return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", image_len_, " bytes for the snapshot image"));
  }
  image_.size = static_cast<int64_t>(image_len_);
  return absl::OkStatus();
}

absl::Status SnapshotDecoder::add_prefix(absl::string_view& bytes) {
  const size_t want = header_done_ ? kSnapshotHeaderBytes + meta_len_ : kSnapshotHeaderBytes;
  const size_t n = std::min(bytes.size(), want - prefix_.size());
  prefix_.append(bytes.data(), n);
  bytes.remove_prefix(n);
  if (prefix_.size() < want) return absl::OkStatus();
  return header_done_ ? parse_meta() : parse_header();
}

absl::Status SnapshotDecoder::add(absl::string_view bytes) {
  if (!dead_.ok()) return dead_;
  while (!meta_.has_value() && !bytes.empty()) {
    if (auto status = add_prefix(bytes); !status.ok()) return dead_ = status;
  }
  if (bytes.empty()) return absl::OkStatus();
  if (bytes.size() > image_len_ - image_received_) {
    return dead_ = absl::InvalidArgumentError(absl::StrCat("snapshot stream is longer than its header says (image of ",
                                                           image_len_, " bytes)"));
  }
  std::memcpy(image_.bytes.get() + image_received_, bytes.data(), bytes.size());
  image_hash_.update(bytes);
  image_received_ += bytes.size();
  return absl::OkStatus();
}

absl::StatusOr<std::pair<StateSnapshotMeta, DatabaseImages>> SnapshotDecoder::finish() {
  if (!dead_.ok()) return dead_;
  if (!meta_.has_value() || image_received_ != image_len_) {
    return dead_ = absl::InvalidArgumentError(absl::StrCat("snapshot stream ended early: ", image_received_, " of ",
                                                           image_len_, " image bytes"));
  }
  if (image_hash_.digest() != image_checksum_) return dead_ = absl::DataLossError("snapshot image checksum mismatch");
  dead_ = absl::FailedPreconditionError("snapshot already finished");
  // The main image keeps the buffer (its tail, the internal image, is
  // copied out: the sessions are small next to the user's data).
  DatabaseImages images;
  const uint64_t internal_len = meta_->internal_image_len;
  if (internal_len > 0) {
    images.internal.bytes.reset(static_cast<unsigned char*>(sqlite3_malloc64(internal_len)));
    if (images.internal.bytes == nullptr) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot allocate ", internal_len, " bytes for the internal image"));
    }
    std::memcpy(images.internal.bytes.get(), image_.bytes.get() + (image_len_ - internal_len), internal_len);
    images.internal.size = static_cast<int64_t>(internal_len);
  }
  images.main = std::move(image_);
  images.main.size = static_cast<int64_t>(image_len_ - internal_len);
  return std::make_pair(*std::move(meta_), std::move(images));
}

}  // namespace reef::statemachine
