#include "sim/seed.h"

#include "raft/core/random.h"

namespace reef::sim {

uint64_t derive_seed(uint64_t parent, std::string_view name) {
  uint64_t hash = 0xcbf29ce484222325ULL;  // FNV-1a offset basis
  for (char c : name) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;  // FNV-1a prime
  }
  uint64_t state = parent ^ hash;
  return raft::splitmix64(state);
}

uint64_t derive_seed(uint64_t parent, std::string_view name, uint64_t index) {
  uint64_t state = derive_seed(parent, name) + index;
  return raft::splitmix64(state);
}

}  // namespace reef::sim
