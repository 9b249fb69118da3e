#include "statemachine/page_checksum.h"

#include <xxhash.h>

#include <cstring>

#include "encoding/little_endian.h"

namespace reef::statemachine {
namespace {

constexpr size_t kHeaderBytes = 100;
constexpr size_t kReservedBytesOffset = 20;
constexpr char kMagic[] = "SQLite format 3";  // with its NUL: 16 bytes
constexpr size_t kSmallestPage = 512;

uint64_t checksum_of(const char* page, size_t size) { return XXH3_64bits(page, size - kPageChecksumBytes); }

}  // namespace

bool header_has_page_checksums(const char* data, size_t size) {
  return size >= kHeaderBytes && std::memcmp(data, kMagic, sizeof(kMagic)) == 0 &&
         static_cast<unsigned char>(data[kReservedBytesOffset]) == kPageChecksumBytes;
}

bool is_whole_page(size_t size, int64_t offset) {
  return size >= kSmallestPage && (size & (size - 1)) == 0 && offset >= 0 &&
         static_cast<uint64_t>(offset) % size == 0;
}

void seal_page(char* page, size_t size) {
  encoding::put_u64(page + size - kPageChecksumBytes, checksum_of(page, size));
}

bool page_is_intact(const char* page, size_t size) {
  return encoding::get_u64(page + size - kPageChecksumBytes) == checksum_of(page, size);
}

}  // namespace reef::statemachine
