// Message codec: raft::NodeMessage <-> the FlatBuffers Envelope of
// transport/wire.fbs, the payload of one wire frame (transport/frame.h).
//
// Decoding takes bytes from the network, so it trusts nothing: the
// FlatBuffers Verifier runs first, then every field the verifier cannot judge
// is checked (cluster id, union members, enum ranges, required tables, node id
// lists). Any problem is an absl::Status naming what was wrong; no input makes
// it assert or read out of bounds. It checks the structure only: whether a
// message makes sense (terms, indexes, offsets) is for the node to judge.
//
// Encoding is deterministic (same message, same bytes) and total over
// messages the node produces, so encode(decode(bytes)) is canonical: the fuzz
// target relies on decode(encode(m)) == m.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "raft/ports/node_message.h"

namespace reef::transport {

// The Envelope bytes for `message`, stamped with `cluster_id`. A core
// Message body travels without its own from/to: the envelope's stand for
// them, so they must agree (asserted; the node builds them that way).
// `incarnation` is the sender's (transport/wire.fbs); 0, unknown, adds no byte.
std::string encode_message(uint64_t cluster_id, const raft::NodeMessage& message, uint64_t incarnation = 0);

// A decoded envelope: the message and the incarnation its sender stamped.
struct ReceivedEnvelope {
  raft::NodeMessage message;
  uint64_t sender_incarnation = 0;  // 0: unknown
};

// The message in `bytes`, refused unless it is a well-formed Envelope of
// cluster `expected_cluster_id` with valid ids (0 is never a node).
// Errors are INVALID_ARGUMENT, or FAILED_PRECONDITION for another cluster.
absl::StatusOr<raft::NodeMessage> decode_message(absl::string_view bytes, uint64_t expected_cluster_id);
// The same, with the sender's incarnation.
absl::StatusOr<ReceivedEnvelope> decode_envelope(absl::string_view bytes, uint64_t expected_cluster_id);

}  // namespace reef::transport
