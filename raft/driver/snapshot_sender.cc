#include "raft/driver/snapshot_sender.h"

#include <utility>

namespace reef::raft {

SnapshotSender::SnapshotSender(NodeId self, DurableLog& log, Transport& transport, const Clock& clock,
                               SnapshotSenderOptions options)
    : self_(self), log_(log), transport_(transport), clock_(clock), options_(options) {}

std::optional<TransferEnded> SnapshotSender::start(NodeId peer, Term term, const SnapshotMeta& meta) {
  auto existing = transfers_.find(peer);
  if (existing != transfers_.end() && existing->second.meta.index == meta.index && existing->second.term == term) {
    return std::nullopt;  // already streaming this one
  }
  absl::StatusOr<std::unique_ptr<SnapshotSource>> source = log_.open_snapshot(0);
  if (!source.ok() || (*source)->meta().index != meta.index || (*source)->meta().term != meta.term) {
    // The core asked for a snapshot the disk does not hold (a newer one was
    // installed meanwhile): report failure; the core asks again with the
    // current one.
    transfers_.erase(peer);
    return TransferEnded{peer, false};
  }
  Transfer transfer;
  transfer.meta = meta;
  transfer.term = term;
  transfer.total_bytes = (*source)->total_bytes();
  transfer.source = std::move(*source);
  Transfer& stored = transfers_.insert_or_assign(peer, std::move(transfer)).first->second;
  if (!send_next_chunk(peer, stored)) return end(peer, false);
  return std::nullopt;
}

std::optional<TransferEnded> SnapshotSender::on_ack(NodeId from, const SnapshotChunkAck& ack) {
  auto it = transfers_.find(from);
  if (it == transfers_.end()) return std::nullopt;
  Transfer& transfer = it->second;
  if (ack.snapshot_index != transfer.meta.index || ack.term != transfer.term) return std::nullopt;  // an older one
  if (ack.abort || ack.done) return end(from, ack.done);
  transfer.resends = 0;
  transfer.acked_offset = ack.next_offset;
  if (ack.next_offset != transfer.sent_offset) {
    // The follower lost a chunk or restarted the transfer: resume where it is.
    if (!rewind(transfer, ack.next_offset).ok()) return end(from, false);
  }
  if (transfer.sent_offset < transfer.total_bytes && !send_next_chunk(from, transfer)) return end(from, false);
  return std::nullopt;
}

std::vector<TransferEnded> SnapshotSender::resend_stalled(std::optional<Term> leading_term) {
  const uint64_t now = clock_.now_ms();
  std::vector<NodeId> give_up;
  for (auto& [peer, transfer] : transfers_) {
    if (!leading_term || transfer.term != *leading_term) {
      give_up.push_back(peer);
      continue;
    }
    if (now - transfer.last_send_ms < options_.resend_ms) continue;
    // Nothing heard: send again from what the follower last confirmed.
    if (++transfer.resends > options_.attempts || !rewind(transfer, transfer.acked_offset).ok() ||
        !send_next_chunk(peer, transfer)) {
      give_up.push_back(peer);
    }
  }
  std::vector<TransferEnded> ended;
  for (NodeId peer : give_up) {
    if (std::optional<TransferEnded> e = end(peer, false)) ended.push_back(*e);
  }
  return ended;
}

absl::Status SnapshotSender::rewind(Transfer& transfer, uint64_t offset) {
  absl::StatusOr<std::unique_ptr<SnapshotSource>> source = log_.open_snapshot(offset);
  if (!source.ok()) return source.status();
  if ((*source)->meta().index != transfer.meta.index) {
    return absl::FailedPreconditionError("a newer snapshot replaced the one being sent");
  }
  transfer.source = std::move(*source);
  transfer.sent_offset = offset;
  return absl::OkStatus();
}

bool SnapshotSender::send_next_chunk(NodeId peer, Transfer& transfer) {
  absl::StatusOr<std::optional<std::string>> chunk = transfer.source->next_chunk();
  if (!chunk.ok() || !chunk->has_value()) return false;
  SnapshotChunk message;
  message.term = transfer.term;
  message.meta = transfer.meta;
  message.offset = transfer.sent_offset;
  message.total_bytes = transfer.total_bytes;
  message.data = std::move(**chunk);
  transfer.sent_offset += message.data.size();
  message.last = transfer.sent_offset >= transfer.total_bytes;
  transfer.last_send_ms = clock_.now_ms();
  transport_.send(NodeMessage{self_, peer, std::move(message)});
  return true;
}

std::optional<TransferEnded> SnapshotSender::end(NodeId peer, bool ok) {
  if (transfers_.erase(peer) == 0) return std::nullopt;
  return TransferEnded{peer, ok};
}

}  // namespace reef::raft
