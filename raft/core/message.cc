#include "raft/core/message.h"


namespace reef::raft {

const char* message_type_name(const MessageBody& body) {
  static constexpr const char* kNames[] = {
      "AppendEntries", "AppendResponse",    "RequestVote",    "VoteResponse",     "Heartbeat",
      "HeartbeatResponse", "InstallSnapshot", "TimeoutNow", "ReadIndexRequest", "ReadIndexResponse"};
  static_assert(std::size(kNames) == std::variant_size_v<MessageBody>);
  return kNames[body.index()];
}

uint64_t message_size_bytes(const Message& m) {
  uint64_t size = 48;
  if (const auto* append = std::get_if<AppendEntries>(&m.body)) {
    for (const LogEntry& e : append->entries) size += entry_size_bytes(e);
  }
  return size;
}

}  // namespace reef::raft
