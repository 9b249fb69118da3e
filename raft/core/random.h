// The core's only source of randomness: a xoshiro256** generator seeded via
// splitmix64 from the 64-bit seed in CoreConfig. Same seed, same sequence, on
// every machine and compiler; std distributions are deliberately not used
// because their output is implementation-defined (DESIGN.md §6).
#pragma once

#include <array>
#include <cstdint>

namespace reef::raft {

// splitmix64: turns any 64-bit value into a well-mixed one. Used to expand a
// seed and to derive independent sub-seeds from a parent seed and a name.
uint64_t splitmix64(uint64_t& state);

class Prng {
 public:
  explicit Prng(uint64_t seed);

  uint64_t next_u64();
  // Uniform in [0, bound) without modulo bias (Lemire's method). bound > 0.
  uint64_t below(uint64_t bound);
  // Uniform in [low, high]. low <= high.
  uint64_t between(uint64_t low, uint64_t high);
  // True with probability numerator/denominator. denominator > 0.
  bool chance(uint64_t numerator, uint64_t denominator);

 private:
  std::array<uint64_t, 4> state_;
};

}  // namespace reef::raft
