#include "encoding/checksummed_record.h"

#include <xxhash.h>

#include "encoding/little_endian.h"
#include "raft/core/assert.h"

namespace reef::encoding {
namespace {

uint64_t seal_of(const char* header, size_t covered, SealWidth width) {
  const uint64_t sum = XXH3_64bits(header, covered);
  return width == SealWidth::k32 ? static_cast<uint32_t>(sum) : sum;
}

}  // namespace

uint64_t checksum(absl::string_view bytes) { return XXH3_64bits(bytes.data(), bytes.size()); }

StreamingChecksum::StreamingChecksum() : state_(XXH3_createState()) {
  REEF_ASSERT(state_ != nullptr, "XXH3_createState failed");
  XXH3_64bits_reset(state_.get());
}

StreamingChecksum::~StreamingChecksum() = default;

void StreamingChecksum::FreeState::operator()(XXH3_state_s* state) const { XXH3_freeState(state); }

void StreamingChecksum::update(absl::string_view bytes) { XXH3_64bits_update(state_.get(), bytes.data(), bytes.size()); }

uint64_t StreamingChecksum::digest() const { return XXH3_64bits_digest(state_.get()); }

void seal(char* header, size_t covered, SealWidth width) {
  const uint64_t sum = seal_of(header, covered, width);
  if (width == SealWidth::k32) {
    put_u32(header + covered, static_cast<uint32_t>(sum));
  } else {
    put_u64(header + covered, sum);
  }
}

bool seal_matches(const char* header, size_t covered, SealWidth width) {
  const uint64_t stored = width == SealWidth::k32 ? get_u32(header + covered) : get_u64(header + covered);
  return stored == seal_of(header, covered, width);
}

}  // namespace reef::encoding
