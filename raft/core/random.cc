#include "raft/core/random.h"

#include "absl/numeric/int128.h"
#include "raft/core/assert.h"

namespace reef::raft {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

Prng::Prng(uint64_t seed) {
  uint64_t s = seed;
  for (auto& word : state_) word = splitmix64(s);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t Prng::next_u64() {
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return result;
}

uint64_t Prng::below(uint64_t bound) {
  REEF_ASSERT(bound > 0);
  // Lemire: multiply into 128 bits, reject the small biased zone.
  absl::uint128 m = absl::uint128(next_u64()) * bound;
  uint64_t low = absl::Uint128Low64(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = absl::uint128(next_u64()) * bound;
      low = absl::Uint128Low64(m);
    }
  }
  return absl::Uint128High64(m);
}

uint64_t Prng::between(uint64_t low, uint64_t high) {
  REEF_ASSERT(low <= high, "low=", low, " high=", high);
  if (high - low == UINT64_MAX) return next_u64();
  return low + below(high - low + 1);
}

bool Prng::chance(uint64_t numerator, uint64_t denominator) {
  REEF_ASSERT(denominator > 0 && numerator <= denominator);
  return below(denominator) < numerator;
}

}  // namespace reef::raft
