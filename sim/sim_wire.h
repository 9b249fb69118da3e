// SimWire: the bytes a simulated message travels as. SimNetwork hands every
// message to encode() when it is sent and delivers what decode() makes of
// those bytes, so the codec (transport/message_codec.h) and the framing
// (transport/frame.h) that the Asio transport uses run on every simulated
// delivery: a message the codec mangles reaches the node mangled, and the
// swarm's checkers see the consequences.
//
// The sim only ever decodes bytes it encoded itself, so a frame or envelope
// it cannot decode, or one that decodes to other endpoints than it was sent
// between, is a bug in our code, not bad input: decode() fails an always-on
// assertion naming the message (in reef-sim, a violation in the run's
// report).
#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "raft/ports/node_message.h"
#include "transport/frame.h"

namespace reef::sim {

class SimWire {
 public:
  // Every simulated cluster carries this cluster id in its envelopes.
  static constexpr uint64_t kClusterId = 0x5eed'c1a5'7e25'0001;

  // The frame (header and envelope) the Asio transport would write for
  // `message`.
  std::string encode(const raft::NodeMessage& message) const;

  // The message in `frame`, which encode() made for a message from `from` to
  // `to`; `what` names it for the assertion if it does not decode.
  raft::NodeMessage decode(absl::string_view frame, raft::NodeId from, raft::NodeId to, absl::string_view what);

 private:
  // One stream for every delivery: each frame is fed whole and popped at
  // once, so between deliveries the reader holds nothing. Its limit is the
  // format's (the frame header's 32-bit length): the sim does not enforce a
  // server's max_frame_bytes, it checks the encoding.
  transport::FrameReader reader_{UINT32_MAX};
};

}  // namespace reef::sim
