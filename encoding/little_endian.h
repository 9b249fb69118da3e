// Fixed-width little-endian encoding for on-disk headers. Every ReefDB file
// format is little-endian regardless of the host, so files move between
// machines; these helpers are the one place that says so.
#pragma once

#include <cstdint>

namespace reef::storage {

inline void put_u16(char* p, uint16_t v) {
  for (int i = 0; i < 2; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
inline void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>(v >> (8 * i));
}
// Reads a `bytes`-wide (1 to 8) little-endian unsigned value.
inline uint64_t get_le(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace reef::storage
