// Transport: how a node driver reaches its peers.
//
// Contract: send() never blocks and never fails loudly. Delivery is best
// effort: messages may be lost, duplicated, delayed and reordered (Raft and
// the driver's own protocols tolerate all four). Each implementation bounds
// what it queues per peer and drops when the bound is reached; the driver
// learns of a peer it cannot reach through Node::on_peer_unreachable.
// Received messages are handed to Node::on_message on the node's loop.
#pragma once

#include "raft/ports/node_message.h"

namespace reef::raft {

class Transport {
 public:
  virtual ~Transport() = default;
  virtual void send(NodeMessage message) = 0;
};

}  // namespace reef::raft
