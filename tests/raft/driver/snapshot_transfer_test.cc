// SnapshotSender and SnapshotReceiver, each end alone against in-memory
// ports, and the two talking to each other.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "raft/driver/snapshot_receiver.h"
#include "raft/driver/snapshot_sender.h"

namespace reef::raft {
namespace {

constexpr NodeId kLeader{1};
constexpr NodeId kFollower{2};

SnapshotMeta meta_at(uint64_t index, uint64_t term) {
  SnapshotMeta meta;
  meta.index = Index(index);
  meta.term = Term(term);
  return meta;
}

// A DurableLog holding at most one snapshot in memory, read back in chunks
// of chunk_bytes.
class MemoryLog : public DurableLog {
 public:
  struct Stored {
    SnapshotMeta meta;
    std::string bytes;
  };
  std::optional<Stored> stored;
  uint64_t chunk_bytes = 4;
  bool fail_finish = false;

  void submit(LogWrite) override {}

  absl::StatusOr<std::unique_ptr<SnapshotSink>> begin_snapshot(const SnapshotMeta& meta) override {
    return std::make_unique<Sink>(*this, meta);
  }

  absl::StatusOr<std::unique_ptr<SnapshotSource>> open_snapshot(uint64_t offset) override {
    if (!stored) return absl::NotFoundError("no snapshot");
    return std::make_unique<Source>(*stored, offset, chunk_bytes);
  }

 private:
  class Sink : public SnapshotSink {
   public:
    Sink(MemoryLog& log, SnapshotMeta meta) : log_(log), meta_(std::move(meta)) {}
    absl::Status add_chunk(std::string_view bytes) override {
      bytes_.append(bytes);
      return absl::OkStatus();
    }
    absl::Status finish() override {
      if (log_.fail_finish) return absl::InternalError("disk full");
      log_.stored = Stored{meta_, bytes_};
      return absl::OkStatus();
    }

   private:
    MemoryLog& log_;
    SnapshotMeta meta_;
    std::string bytes_;
  };

  class Source : public SnapshotSource {
   public:
    Source(Stored stored, uint64_t offset, uint64_t chunk) : stored_(std::move(stored)), offset_(offset), chunk_(chunk) {}
    const SnapshotMeta& meta() const override { return stored_.meta; }
    uint64_t total_bytes() const override { return stored_.bytes.size(); }
    absl::StatusOr<std::optional<std::string>> next_chunk() override {
      if (offset_ >= stored_.bytes.size()) return std::optional<std::string>();
      std::string chunk = stored_.bytes.substr(offset_, chunk_);
      offset_ += chunk.size();
      return std::optional<std::string>(std::move(chunk));
    }

   private:
    Stored stored_;
    uint64_t offset_;
    uint64_t chunk_;
  };
};

// A state machine that only restores: it keeps the bytes and claims the
// meta it is told to.
class RestoringStateMachine : public StateMachine {
 public:
  SnapshotMeta restores_to;
  std::string restored;

  absl::StatusOr<std::string> apply(const LogEntry&) override { return absl::UnimplementedError("apply"); }
  AppliedPosition applied() const override { return {}; }
  absl::StatusOr<std::string> prepare_proposal(std::string_view, uint64_t) override {
    return absl::UnimplementedError("prepare_proposal");
  }
  absl::StatusOr<std::string> query(std::string_view) override { return absl::UnimplementedError("query"); }
  absl::StatusOr<std::unique_ptr<StateMachineSnapshot>> snapshot(const Configuration&) override {
    return absl::UnimplementedError("snapshot");
  }
  absl::StatusOr<std::unique_ptr<StateMachineRestore>> begin_restore() override {
    return std::make_unique<Restore>(*this);
  }

 private:
  class Restore : public StateMachineRestore {
   public:
    explicit Restore(RestoringStateMachine& sm) : sm_(sm) {}
    absl::Status add_chunk(std::string_view bytes) override {
      bytes_.append(bytes);
      return absl::OkStatus();
    }
    absl::StatusOr<SnapshotMeta> finish() override {
      sm_.restored = bytes_;
      return sm_.restores_to;
    }

   private:
    RestoringStateMachine& sm_;
    std::string bytes_;
  };
};

class RecordingTransport : public Transport {
 public:
  std::vector<NodeMessage> sent;
  void send(NodeMessage message) override { sent.push_back(std::move(message)); }

  template <typename T>
  std::vector<T> taken() {
    std::vector<T> out;
    for (NodeMessage& m : sent) out.push_back(std::get<T>(std::move(m.body)));
    sent.clear();
    return out;
  }
};

class ManualClock : public Clock {
 public:
  uint64_t now = 1000;
  uint64_t now_ms() const override { return now; }
  uint64_t wall_now_ms() const override { return now; }
};

SnapshotChunkAck ack(uint64_t term, uint64_t index, uint64_t next_offset, bool done = false, bool abort = false) {
  return SnapshotChunkAck{Term(term), Index(index), next_offset, done, abort};
}

// ---- the leader's end ----

class SnapshotSenderTest : public ::testing::Test {
 protected:
  SnapshotSenderTest() { log_.stored = MemoryLog::Stored{meta_at(10, 2), "0123456789"}; }

  MemoryLog log_;
  RecordingTransport transport_;
  ManualClock clock_;
  SnapshotSender sender_{kLeader, log_, transport_, clock_, SnapshotSenderOptions{.resend_ms = 100, .attempts = 2}};
};

TEST_F(SnapshotSenderTest, SendsOneChunkAtATimeAsTheyAreAcknowledged) {
  EXPECT_FALSE(sender_.start(kFollower, Term(3), meta_at(10, 2)).has_value());
  std::vector<SnapshotChunk> chunks = transport_.taken<SnapshotChunk>();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].term, Term(3));
  EXPECT_EQ(chunks[0].meta, meta_at(10, 2));
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[0].total_bytes, 10u);
  EXPECT_EQ(chunks[0].data, "0123");
  EXPECT_FALSE(chunks[0].last);

  EXPECT_FALSE(sender_.on_ack(kFollower, ack(3, 10, 4)).has_value());
  EXPECT_FALSE(sender_.on_ack(kFollower, ack(3, 10, 8)).has_value());
  chunks = transport_.taken<SnapshotChunk>();
  ASSERT_EQ(chunks.size(), 2u);
  EXPECT_EQ(chunks[1].offset, 8u);
  EXPECT_EQ(chunks[1].data, "89");
  EXPECT_TRUE(chunks[1].last);

  EXPECT_EQ(sender_.on_ack(kFollower, ack(3, 10, 10, /*done=*/true)), (TransferEnded{kFollower, true}));
  EXPECT_FALSE(sender_.sending_to(kFollower));
}

TEST_F(SnapshotSenderTest, EndsAtOnceWhenTheDiskHoldsAnotherSnapshot) {
  EXPECT_EQ(sender_.start(kFollower, Term(3), meta_at(7, 2)), (TransferEnded{kFollower, false}));
  EXPECT_TRUE(transport_.sent.empty());
  EXPECT_FALSE(sender_.sending_to(kFollower));
}

TEST_F(SnapshotSenderTest, AskingAgainForTheSameTransferChangesNothing) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  EXPECT_FALSE(sender_.start(kFollower, Term(3), meta_at(10, 2)).has_value());
  EXPECT_EQ(transport_.sent.size(), 1u);
}

TEST_F(SnapshotSenderTest, ResumesFromTheOffsetTheFollowerHolds) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  sender_.on_ack(kFollower, ack(3, 10, 4));
  transport_.sent.clear();
  sender_.on_ack(kFollower, ack(3, 10, 0));  // the follower started over
  std::vector<SnapshotChunk> chunks = transport_.taken<SnapshotChunk>();
  ASSERT_EQ(chunks.size(), 1u);
  EXPECT_EQ(chunks[0].offset, 0u);
  EXPECT_EQ(chunks[0].data, "0123");
}

TEST_F(SnapshotSenderTest, IgnoresAcksOfOtherTransfersAndPeers) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  transport_.sent.clear();
  EXPECT_FALSE(sender_.on_ack(kFollower, ack(2, 10, 4, /*done=*/true)).has_value());
  EXPECT_FALSE(sender_.on_ack(kFollower, ack(3, 9, 4, /*done=*/true)).has_value());
  EXPECT_FALSE(sender_.on_ack(NodeId(3), ack(3, 10, 4, /*done=*/true)).has_value());
  EXPECT_TRUE(transport_.sent.empty());
  EXPECT_TRUE(sender_.sending_to(kFollower));
}

TEST_F(SnapshotSenderTest, AnAbortEndsTheTransferUnsuccessfully) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  EXPECT_EQ(sender_.on_ack(kFollower, ack(3, 10, 0, false, /*abort=*/true)), (TransferEnded{kFollower, false}));
  EXPECT_FALSE(sender_.sending_to(kFollower));
}

TEST_F(SnapshotSenderTest, AStalledTransferIsResentFromTheAcknowledgedOffsetThenGivenUp) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  sender_.on_ack(kFollower, ack(3, 10, 4));
  transport_.sent.clear();
  clock_.now += 99;
  EXPECT_TRUE(sender_.resend_stalled(Term(3)).empty());
  EXPECT_TRUE(transport_.sent.empty());
  for (int attempt = 1; attempt <= 2; ++attempt) {
    clock_.now += 100;
    EXPECT_TRUE(sender_.resend_stalled(Term(3)).empty());
    std::vector<SnapshotChunk> chunks = transport_.taken<SnapshotChunk>();
    ASSERT_EQ(chunks.size(), 1u) << "attempt " << attempt;
    EXPECT_EQ(chunks[0].offset, 4u);
  }
  clock_.now += 100;
  EXPECT_EQ(sender_.resend_stalled(Term(3)), (std::vector<TransferEnded>{{kFollower, false}}));
  EXPECT_TRUE(transport_.sent.empty());
  EXPECT_FALSE(sender_.sending_to(kFollower));
}

TEST_F(SnapshotSenderTest, GivesUpOnceNoLongerLeadingInTheTransfersTerm) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  sender_.start(NodeId(3), Term(3), meta_at(10, 2));
  EXPECT_EQ(sender_.resend_stalled(Term(4)), (std::vector<TransferEnded>{{kFollower, false}, {NodeId(3), false}}));
  sender_.start(kFollower, Term(4), meta_at(10, 2));
  EXPECT_EQ(sender_.resend_stalled(std::nullopt), (std::vector<TransferEnded>{{kFollower, false}}));
}

TEST_F(SnapshotSenderTest, ClearForgetsEverythingSilently) {
  sender_.start(kFollower, Term(3), meta_at(10, 2));
  sender_.clear();
  EXPECT_FALSE(sender_.sending_to(kFollower));
  EXPECT_FALSE(sender_.on_ack(kFollower, ack(3, 10, 0, true)).has_value());
}

// ---- the follower's end ----

class SnapshotReceiverTest : public ::testing::Test {
 protected:
  SnapshotReceiverTest() { state_machine_.restores_to = meta_at(10, 2); }

  SnapshotChunk chunk(uint64_t offset, std::string data, bool last, uint64_t term = 3) {
    return SnapshotChunk{Term(term), meta_at(10, 2), offset, 10, std::move(data), last};
  }
  // Feeds the whole snapshot; returns what the core is to be stepped with.
  std::optional<Message> receive_all() {
    receiver_.on_chunk(kLeader, chunk(0, "01234", false), Term(3), Index(0));
    return receiver_.on_chunk(kLeader, chunk(5, "56789", true), Term(3), Index(0));
  }

  MemoryLog log_;
  RestoringStateMachine state_machine_;
  RecordingTransport transport_;
  SnapshotReceiver receiver_{kFollower, log_, state_machine_, transport_};
};

TEST_F(SnapshotReceiverTest, AcknowledgesEachChunkThenHandsTheCoreTheSnapshot) {
  EXPECT_FALSE(receiver_.on_chunk(kLeader, chunk(0, "01234", false), Term(3), Index(0)).has_value());
  std::optional<Message> install = receiver_.on_chunk(kLeader, chunk(5, "56789", true), Term(3), Index(0));
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 1u) << "the last chunk is acknowledged once the core accepts it";
  EXPECT_EQ(acks[0].next_offset, 5u);
  EXPECT_FALSE(acks[0].done || acks[0].abort);
  ASSERT_TRUE(install.has_value());
  EXPECT_EQ(install->from, kLeader);
  EXPECT_EQ(install->to, kFollower);
  EXPECT_EQ(install->term, Term(3));
  EXPECT_EQ(std::get<InstallSnapshot>(install->body).meta, meta_at(10, 2));
}

TEST_F(SnapshotReceiverTest, InstallMakesItDurableAndRestoresThenAcknowledges) {
  receive_all();
  transport_.sent.clear();
  absl::StatusOr<SnapshotReceiver::Installed> installed = receiver_.install(meta_at(10, 2));
  ASSERT_TRUE(installed.ok()) << installed.status();
  EXPECT_EQ(log_.stored->bytes, "0123456789");
  EXPECT_EQ(log_.stored->meta, meta_at(10, 2));
  EXPECT_EQ(state_machine_.restored, "0123456789");
  EXPECT_TRUE(transport_.sent.empty()) << "acknowledged only when the node says so";
  receiver_.acknowledge(*installed);
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].done);
  EXPECT_EQ(acks[0].next_offset, 10u);
  EXPECT_EQ(acks[0].snapshot_index, Index(10));
  EXPECT_FALSE(receiver_.receiving());
}

TEST_F(SnapshotReceiverTest, InstallFailsWhenTheDiskOrTheStateMachineDisagree) {
  log_.fail_finish = true;
  receive_all();
  EXPECT_EQ(receiver_.install(meta_at(10, 2)).status().code(), absl::StatusCode::kInternal);

  log_.fail_finish = false;
  state_machine_.restores_to = meta_at(9, 2);
  receive_all();
  EXPECT_EQ(receiver_.install(meta_at(10, 2)).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(SnapshotReceiverTest, AChunkFromADeposedLeaderIsAborted) {
  EXPECT_FALSE(receiver_.on_chunk(kLeader, chunk(0, "01234", false, /*term=*/2), Term(3), Index(0)).has_value());
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].abort);
  EXPECT_FALSE(receiver_.receiving());
}

TEST_F(SnapshotReceiverTest, ASnapshotAlreadyAppliedIsAbortedButShownToTheCore) {
  std::optional<Message> install = receiver_.on_chunk(kLeader, chunk(0, "01234", false), Term(3), Index(10));
  ASSERT_TRUE(install.has_value()) << "the core answers with its commit index";
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].abort);
  EXPECT_FALSE(receiver_.receiving());
}

TEST_F(SnapshotReceiverTest, ChunksOutOfOrderAreAnsweredWithTheOffsetHeld) {
  receiver_.on_chunk(kLeader, chunk(5, "56789", true), Term(3), Index(0));
  receiver_.on_chunk(kLeader, chunk(0, "01", false), Term(3), Index(0));
  receiver_.on_chunk(kLeader, chunk(5, "56789", true), Term(3), Index(0));
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 3u);
  EXPECT_EQ(acks[0].next_offset, 0u) << "a new transfer starts from the beginning";
  EXPECT_EQ(acks[1].next_offset, 2u);
  EXPECT_EQ(acks[2].next_offset, 2u);
  for (const SnapshotChunkAck& a : acks) EXPECT_FALSE(a.abort || a.done);
}

TEST_F(SnapshotReceiverTest, ASnapshotTheCoreTurnedDownIsDroppedAndTheLeaderTold) {
  receive_all();
  transport_.sent.clear();
  receiver_.drop_unaccepted();
  std::vector<SnapshotChunkAck> acks = transport_.taken<SnapshotChunkAck>();
  ASSERT_EQ(acks.size(), 1u);
  EXPECT_TRUE(acks[0].abort);
  EXPECT_FALSE(receiver_.receiving());
}

TEST_F(SnapshotReceiverTest, AnIncompleteTransferIsNotDroppedAfterAFlush) {
  receiver_.on_chunk(kLeader, chunk(0, "01234", false), Term(3), Index(0));
  transport_.sent.clear();
  receiver_.drop_unaccepted();
  EXPECT_TRUE(transport_.sent.empty());
  EXPECT_TRUE(receiver_.receiving());
}

// ---- both ends ----

TEST(SnapshotTransferTest, ASnapshotCrossesFromLeaderToFollower) {
  MemoryLog leader_log;
  leader_log.chunk_bytes = 3;
  leader_log.stored = MemoryLog::Stored{meta_at(10, 2), "the state at index ten"};
  RecordingTransport to_follower;
  ManualClock clock;
  SnapshotSender sender(kLeader, leader_log, to_follower, clock, SnapshotSenderOptions{});

  MemoryLog follower_log;
  RestoringStateMachine follower_state;
  follower_state.restores_to = meta_at(10, 2);
  RecordingTransport to_leader;
  SnapshotReceiver receiver(kFollower, follower_log, follower_state, to_leader);

  ASSERT_FALSE(sender.start(kFollower, Term(3), meta_at(10, 2)).has_value());
  std::optional<Message> install;
  std::optional<TransferEnded> ended;
  for (int round = 0; round < 100 && !ended; ++round) {
    for (SnapshotChunk& c : to_follower.taken<SnapshotChunk>()) {
      if (std::optional<Message> m = receiver.on_chunk(kLeader, std::move(c), Term(3), Index(0))) install = m;
    }
    if (install) {
      absl::StatusOr<SnapshotReceiver::Installed> installed =
          receiver.install(std::get<InstallSnapshot>(install->body).meta);
      ASSERT_TRUE(installed.ok()) << installed.status();
      receiver.acknowledge(*installed);
      install.reset();
    }
    for (const SnapshotChunkAck& a : to_leader.taken<SnapshotChunkAck>()) {
      if (std::optional<TransferEnded> e = sender.on_ack(kFollower, a)) ended = e;
    }
  }
  EXPECT_EQ(ended, (TransferEnded{kFollower, true}));
  EXPECT_EQ(follower_log.stored->bytes, "the state at index ten");
  EXPECT_EQ(follower_state.restored, "the state at index ten");
}

}  // namespace
}  // namespace reef::raft
