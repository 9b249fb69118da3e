#include "sim/sim_wire.h"

#include <optional>
#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "raft/core/assert.h"
#include "transport/message_codec.h"

namespace reef::sim {

std::string SimWire::encode(const raft::NodeMessage& message) const {
  return transport::encode_frame(transport::encode_message(kClusterId, message));
}

raft::NodeMessage SimWire::decode(absl::string_view frame, raft::NodeId from, raft::NodeId to,
                                  absl::string_view what) {
  const absl::Status fed = reader_.feed(frame);
  REEF_ASSERT(fed.ok(), "the simulated network cannot read the frame of its own message '", what, "': ", fed.ToString());
  std::optional<std::string> payload = reader_.pop();
  REEF_ASSERT(payload.has_value() && reader_.partial_bytes() == 0, "the frame of '", what, "' (", frame.size(),
              " bytes) is not exactly one frame");
  absl::StatusOr<raft::NodeMessage> message = transport::decode_message(*payload, kClusterId);
  REEF_ASSERT(message.ok(), "the simulated network cannot decode its own message '", what,
              "': ", message.status().ToString());
  REEF_ASSERT(message->from == from && message->to == to, "'", what, "' was sent ", from.value(), "->", to.value(),
              " but decodes as ", message->from.value(), "->", message->to.value());
  return *std::move(message);
}

}  // namespace reef::sim
