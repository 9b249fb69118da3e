// One entry of the replicated log.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "raft/core/membership.h"
#include "raft/core/types.h"

namespace reef::raft {

enum class EntryType : uint8_t {
  // Opaque client payload (for ReefDB: a serialized CommandBatch).
  kNormal = 0,
  // Appended by every new leader at the start of its term so that entries of
  // earlier terms commit indirectly (thesis §3.6.2, §6.4). Payload is empty.
  kNoop = 1,
  // A membership change (thesis §4): `configuration` is the configuration
  // that takes effect on each node as soon as the entry is in its log.
  // Payload is empty.
  kConfiguration = 2,
};

struct LogEntry {
  Term term;
  Index index;
  EntryType type = EntryType::kNormal;
  std::string payload;
  // Set exactly when type == kConfiguration.
  std::optional<Configuration> configuration;

  friend bool operator==(const LogEntry&, const LogEntry&) = default;
};

// Bytes an entry counts for in message and flow-control budgets: the payload
// plus a fixed allowance for term, index and type (and a configuration's ids).
inline uint64_t entry_size_bytes(const LogEntry& e) {
  return e.payload.size() + 24 + (e.configuration ? 8 * e.configuration->members().size() : 0);
}

}  // namespace reef::raft
