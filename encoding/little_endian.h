// Fixed-width little-endian integers in byte buffers. Every ReefDB format,
// on disk and on the wire, is little-endian regardless of the host, so files
// and frames move between machines; these helpers are the one place that
// says how (storage's log, hard state and snapshot files, the state
// machine's snapshot stream, transport's frames).
#pragma once

#include <cstdint>

namespace reef::encoding {

namespace little_endian_detail {
template <typename T>
inline void put(char* p, T v) {
  for (unsigned i = 0; i < sizeof(T); ++i) p[i] = static_cast<char>(v >> (8 * i));
}
template <typename T>
inline T get(const char* p) {
  T v = 0;
  for (int i = static_cast<int>(sizeof(T)) - 1; i >= 0; --i) v = static_cast<T>((v << 8) | static_cast<uint8_t>(p[i]));
  return v;
}
}  // namespace little_endian_detail

inline void put_u16(char* p, uint16_t v) { little_endian_detail::put(p, v); }
inline void put_u32(char* p, uint32_t v) { little_endian_detail::put(p, v); }
inline void put_u64(char* p, uint64_t v) { little_endian_detail::put(p, v); }

inline uint16_t get_u16(const char* p) { return little_endian_detail::get<uint16_t>(p); }
inline uint32_t get_u32(const char* p) { return little_endian_detail::get<uint32_t>(p); }
inline uint64_t get_u64(const char* p) { return little_endian_detail::get<uint64_t>(p); }

}  // namespace reef::encoding
