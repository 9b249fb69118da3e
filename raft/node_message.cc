#include "raft/node_message.h"

namespace reef::raft {

const char* node_message_type_name(const NodeMessageBody& body) {
  struct Namer {
    const char* operator()(const Message& m) const { return message_type_name(m.body); }
    const char* operator()(const SnapshotChunk&) const { return "SnapshotChunk"; }
    const char* operator()(const SnapshotChunkAck&) const { return "SnapshotChunkAck"; }
    const char* operator()(const ForwardedRequest&) const { return "ForwardedRequest"; }
    const char* operator()(const ForwardedReply&) const { return "ForwardedReply"; }
  };
  return std::visit(Namer{}, body);
}

}  // namespace reef::raft
