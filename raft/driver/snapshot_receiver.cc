#include "raft/driver/snapshot_receiver.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::raft {

SnapshotReceiver::SnapshotReceiver(NodeId self, DurableLog& log, StateMachine& state_machine, Transport& transport)
    : self_(self), log_(log), state_machine_(state_machine), transport_(transport) {}

std::optional<Message> SnapshotReceiver::on_chunk(NodeId from, SnapshotChunk chunk, Term current_term,
                                                  Index applied) {
  const Index index = chunk.meta.index;
  if (chunk.term < current_term) {  // from a deposed leader
    ack(from, chunk.term, index, 0, /*done=*/false, /*abort=*/true);
    return std::nullopt;
  }
  if (index <= applied) {
    // Nothing this node needs, but the leader sent it because it does not
    // know how far this log goes: the core answers a stale snapshot with its
    // commit index (applied <= commit, so it never restores), from which the
    // leader resumes appending. An abort alone would have it send the same
    // snapshot again, forever.
    ack(from, chunk.term, index, 0, /*done=*/false, /*abort=*/true);
    return Message{from, self_, chunk.term, InstallSnapshot{chunk.meta}};
  }
  Incoming* incoming = incoming_ ? &*incoming_ : nullptr;
  const bool same = incoming && incoming->leader == from && incoming->term == chunk.term &&
                    incoming->meta.index == index;
  if (!same) {
    if (chunk.offset != 0) {
      ack(from, chunk.term, index, 0, false, false);  // start over from the beginning
      return std::nullopt;
    }
    incoming_.reset();
    if (absl::Status s = begin(from, chunk); !s.ok()) {
      ack(from, chunk.term, index, 0, false, /*abort=*/true);
      return std::nullopt;
    }
    incoming = &*incoming_;
  }
  if (chunk.offset != incoming->received || incoming->complete) {
    ack(from, chunk.term, index, incoming->received, false, false);
    return std::nullopt;
  }
  absl::Status written = incoming->sink->add_chunk(chunk.data);
  if (written.ok()) written = incoming->restore->add_chunk(chunk.data);
  if (!written.ok()) {
    incoming_.reset();
    ack(from, chunk.term, index, 0, false, /*abort=*/true);
    return std::nullopt;
  }
  incoming->received += chunk.data.size();
  if (!chunk.last || incoming->received != incoming->total_bytes) {
    ack(from, chunk.term, index, incoming->received, false, false);
    return std::nullopt;
  }
  incoming->complete = true;
  // Every byte is here: now the core decides (it may find the snapshot stale).
  return Message{from, self_, chunk.term, InstallSnapshot{chunk.meta}};
}

absl::Status SnapshotReceiver::begin(NodeId from, const SnapshotChunk& chunk) {
  Incoming incoming;
  incoming.leader = from;
  incoming.term = chunk.term;
  incoming.meta = chunk.meta;
  incoming.total_bytes = chunk.total_bytes;
  absl::StatusOr<std::unique_ptr<SnapshotSink>> sink = log_.begin_snapshot(chunk.meta);
  if (!sink.ok()) return sink.status();
  absl::StatusOr<std::unique_ptr<StateMachineRestore>> restore = state_machine_.begin_restore();
  if (!restore.ok()) return restore.status();
  incoming.sink = std::move(*sink);
  incoming.restore = std::move(*restore);
  incoming_ = std::move(incoming);
  return absl::OkStatus();
}

absl::StatusOr<SnapshotReceiver::Installed> SnapshotReceiver::install(const SnapshotMeta& meta) {
  REEF_ASSERT(incoming_ && incoming_->complete && incoming_->meta == meta, "core accepted snapshot ",
              meta.index.value(), " that was not received");
  Incoming incoming = std::move(*incoming_);
  incoming_.reset();
  if (absl::Status s = incoming.sink->finish(); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("storing snapshot ", meta.index.value(), ": ", s.message()));
  }
  absl::StatusOr<SnapshotMeta> restored = incoming.restore->finish();
  if (!restored.ok() || restored->index != meta.index || restored->term != meta.term) {
    // Durable on disk but not in the state machine: only a restart (which
    // restores from disk) can make them agree again.
    return absl::DataLossError(absl::StrCat("restoring snapshot ", meta.index.value(), ": ",
                                            restored.ok() ? "contents disagree with its meta"
                                                          : restored.status().message()));
  }
  return Installed{incoming.leader, incoming.term, meta.index, incoming.received};
}

void SnapshotReceiver::acknowledge(const Installed& installed) {
  ack(installed.leader, installed.term, installed.index, installed.bytes, /*done=*/true, false);
}

void SnapshotReceiver::drop_unaccepted() {
  if (!incoming_ || !incoming_->complete) return;
  const Incoming& incoming = *incoming_;
  ack(incoming.leader, incoming.term, incoming.meta.index, 0, false, /*abort=*/true);
  incoming_.reset();
}

void SnapshotReceiver::ack(NodeId leader, Term term, Index index, uint64_t next_offset, bool done, bool abort) {
  transport_.send(NodeMessage{self_, leader, SnapshotChunkAck{term, index, next_offset, done, abort}});
}

}  // namespace reef::raft
