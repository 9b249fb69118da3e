// SimWire: simulated messages travel as the Asio transport's frames, and
// bytes the sim cannot decode stop the run with the message's name.
#include "sim/sim_wire.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>

#include "raft/ports/node_message.h"
#include "transport/frame.h"

namespace reef::sim {
namespace {

raft::NodeMessage forwarded_write(std::string payload) {
  raft::ForwardedRequest request;
  request.request_id = 7;
  request.kind = raft::RequestKind::kWrite;
  request.payload = std::move(payload);
  request.min_applied = raft::Index(3);
  return raft::NodeMessage{raft::NodeId(2), raft::NodeId(1), std::move(request)};
}

TEST(SimWireTest, MessagesTravelAsFramesAndComeBackWhole) {
  SimWire wire;
  for (int i = 0; i < 3; ++i) {  // one reader serves every delivery
    const std::string frame = wire.encode(forwarded_write("insert " + std::to_string(i)));
    ASSERT_GT(frame.size(), transport::kFrameHeaderBytes);
    EXPECT_EQ(frame.substr(0, 4), "RFRM");
    const raft::NodeMessage m = wire.decode(frame, raft::NodeId(2), raft::NodeId(1), "forwarded write");
    EXPECT_EQ(m.from, raft::NodeId(2));
    EXPECT_EQ(m.to, raft::NodeId(1));
    const auto* request = std::get_if<raft::ForwardedRequest>(&m.body);
    ASSERT_NE(request, nullptr);
    EXPECT_EQ(request->request_id, 7u);
    EXPECT_EQ(request->payload, "insert " + std::to_string(i));
    EXPECT_EQ(request->min_applied, raft::Index(3));
  }
}

TEST(SimWireDeathTest, BytesTheSimCannotDecodeAreABugNamingTheMessage) {
  SimWire wire;
  std::string frame = wire.encode(forwarded_write("x"));
  frame.back() ^= 0x01;  // the payload checksum no longer matches
  EXPECT_DEATH(wire.decode(frame, raft::NodeId(2), raft::NodeId(1), "deliver forwarded n2->n1"),
               "cannot read the frame of its own message 'deliver forwarded n2->n1'");
}

TEST(SimWireDeathTest, AMessageMustArriveBetweenTheNodesItWasSentBetween) {
  SimWire wire;
  const std::string frame = wire.encode(forwarded_write("x"));
  EXPECT_DEATH(wire.decode(frame, raft::NodeId(3), raft::NodeId(1), "deliver forwarded n3->n1"),
               "was sent 3->1 but decodes as 2->1");
}

}  // namespace
}  // namespace reef::sim
