// Probe codec: transport::Probe <-> the FlatBuffers Probe of
// transport/probe.fbs, the second kind of wire frame payload (the first is
// the Envelope of transport/message_codec.h). Like decode_message, decoding
// trusts nothing: identifier, size, FlatBuffers verification, cluster id and
// node ids are checked before any field is used.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "raft/core/types.h"

namespace reef::transport {

// An encoded probe is well under this (about 70 bytes); a larger payload
// with the probe identifier is refused, and a connection that only carries
// probes can bound its frame reader with it.
inline constexpr size_t kMaxProbeBytes = 256;

struct Probe {
  raft::NodeId from;
  raft::NodeId to;
  uint64_t sequence = 0;
  bool reply = false;  // false: ping, true: pong
  uint64_t incarnation = 0;  // the sender's (storage/node_identity.h); 0: unknown
  bool refused = false;      // pong only: the answerer refuses the pinger (probe.fbs)

  friend bool operator==(const Probe&, const Probe&) = default;
};

// True if `payload` carries the probe file identifier: decode it with
// decode_probe(), not decode_message(). Says nothing about its validity.
bool is_probe(absl::string_view payload);

// The probe's bytes, stamped with `cluster_id`. Ids must not be 0 (asserted).
std::string encode_probe(uint64_t cluster_id, const Probe& probe);

// The probe in `bytes`, refused unless it is a well-formed Probe of cluster
// `expected_cluster_id` with non-zero node ids. Errors are INVALID_ARGUMENT,
// or FAILED_PRECONDITION for another cluster.
absl::StatusOr<Probe> decode_probe(absl::string_view bytes, uint64_t expected_cluster_id);

}  // namespace reef::transport
