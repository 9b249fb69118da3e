// What the production node measures about itself and logs: PeerLogThrottle's
// rate limiting, NodeObserver's observations and log lines (spdlog captured
// into a string), TimedStateMachine's batches and snapshot reports against a
// fake state machine on a manual clock, and StorageThreadLog's timing hooks
// over a real NodeStorage in a temporary directory.
//
// Time is a manual clock everywhere it decides something, so nothing here
// depends on how fast the machine is; StorageThreadLog's own steady-clock
// measurement is only checked to be present and non-negative.
#include "prod/observe/node_observer.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prod/disk/posix_file_system.h"
#include "prod/observe/node_metrics.h"
#include "prod/observe/peer_log_throttle.h"
#include "prod/server/storage_thread_log.h"
#include "prod/server/timed_state_machine.h"
#include "storage/node_storage.h"

namespace reef::prod {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Clock = std::chrono::steady_clock;

// The default logger writes into a string for the test's lifetime.
class CapturedLog {
 public:
  CapturedLog() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_);
    auto logger = std::make_shared<spdlog::logger>("captured", sink);
    logger->set_pattern("%l %v");
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  // What was logged since the last call.
  std::string take() {
    std::string text = stream_.str();
    stream_.str("");
    return text;
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

// A steady clock that moves only when told.
struct ManualClock {
  Clock::time_point now = Clock::time_point() + 1000s;
  std::function<Clock::time_point()> function() {
    return [this] { return now; };
  }
};

raft::SnapshotMeta meta_at(uint64_t index, uint64_t term = 2) {
  raft::SnapshotMeta meta;
  meta.index = raft::Index(index);
  meta.term = raft::Term(term);
  meta.configuration.voters = raft::MajorityConfig({raft::NodeId(1)});
  return meta;
}

NodeObserver observer_on(ManualClock& clock) {
  NodeObserver::Options options;
  options.now = clock.function();
  return NodeObserver(options);
}

// --- PeerLogThrottle ----------------------------------------------------------

TEST(PeerLogThrottle, ADownPeerCostsOneLinePerInterval) {
  PeerLogThrottle throttle(10s);
  Clock::time_point t = Clock::time_point() + 100s;
  const raft::NodeId peer(2);
  EXPECT_EQ(throttle.peer_failed(peer, "refused", t), "peer 2 unreachable: refused");
  std::vector<std::string> lines;
  for (int i = 1; i <= 100; ++i) {  // a failure every 250 ms for 25 s
    if (auto line = throttle.peer_failed(peer, "refused", t + i * 250ms)) lines.push_back(*line);
  }
  ASSERT_EQ(lines.size(), 2u);  // at 10 s and 20 s
  EXPECT_EQ(lines[0], "peer 2 still unreachable: 41 failures in 10.0 s (latest: refused)");
  EXPECT_EQ(lines[1], "peer 2 still unreachable: 81 failures in 20.0 s (latest: refused)");
  EXPECT_EQ(throttle.peer_connected(peer, t + 30s), "peer 2 reachable again after 101 failures in 30.0 s");
  // Healthy again: connecting says nothing, and the next failure is news.
  EXPECT_EQ(throttle.peer_connected(peer, t + 31s), std::nullopt);
  EXPECT_EQ(throttle.peer_failed(peer, "reset", t + 32s), "peer 2 unreachable: reset");
}

TEST(PeerLogThrottle, PeersAreThrottledIndependently) {
  PeerLogThrottle throttle(10s);
  const Clock::time_point t = Clock::time_point() + 100s;
  EXPECT_TRUE(throttle.peer_failed(raft::NodeId(2), "x", t).has_value());
  EXPECT_TRUE(throttle.peer_failed(raft::NodeId(3), "x", t + 1s).has_value());
  EXPECT_FALSE(throttle.peer_failed(raft::NodeId(2), "x", t + 2s).has_value());
  EXPECT_EQ(throttle.peer_connected(raft::NodeId(4), t), std::nullopt);  // never failed
  EXPECT_EQ(throttle.peer_connected(raft::NodeId(2), t + 3s),
            "peer 2 reachable again after 2 failures in 3.0 s");
}

TEST(PeerLogThrottle, InboundRefusalsAreThrottledTogether) {
  PeerLogThrottle throttle(10s);
  const Clock::time_point t = Clock::time_point() + 100s;
  EXPECT_EQ(throttle.inbound_refused("10.0.0.9:5000", "bad magic", t),
            "refused a connection from 10.0.0.9:5000: bad magic");
  for (int i = 1; i <= 5; ++i) EXPECT_FALSE(throttle.inbound_refused("10.0.0.9:5001", "x", t + i * 1s));
  EXPECT_EQ(
      throttle.inbound_refused("10.0.0.8:1", "another cluster", t + 10s),
      "refused a connection from 10.0.0.8:1: another cluster (5 more refused since the last such line)");
}

// --- NodeObserver -------------------------------------------------------------

TEST(NodeObserver, LogWritesAreObservedAndSlowOnesLogged) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.log_written(LogWriteTiming{0.002, 3, 7, 1, true});
  observer.log_written(LogWriteTiming{0, 0, 0, 0, true});  // nothing reached the disk: not a sample
  EXPECT_EQ(observer.observations().log_write_seconds.count(), 1u);
  EXPECT_THAT(log.take(), IsEmpty());
  observer.log_written(LogWriteTiming{0.25, 2, 40, 1, true});
  EXPECT_EQ(observer.observations().log_write_seconds.count(), 2u);
  EXPECT_DOUBLE_EQ(observer.observations().log_write_seconds.sum(), 0.252);
  const std::string text = log.take();
  EXPECT_THAT(
      text,
      HasSubstr("warning slow Raft log write: 2 writes (40 entries, 1 syncs) took 250.0 ms (over 100 ms)"));
}

TEST(NodeObserver, ATakenSnapshotIsTimedFromSerializingToDurable) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.boot_finished();
  observer.snapshot_started(raft::Index(40));
  clock.now += 1500ms;
  observer.snapshot_stored(meta_at(40, 3), 8192);
  EXPECT_EQ(observer.observations().snapshot_save_seconds.count(), 1u);
  EXPECT_DOUBLE_EQ(observer.observations().snapshot_save_seconds.sum(), 1.5);
  EXPECT_THAT(log.take(), HasSubstr("info snapshot taken at index 40 (term 3): 8192 bytes in 1500.0 ms"));
  // A stored snapshot that was not started here came from the leader: the
  // restore reports it.
  observer.snapshot_stored(meta_at(90), 100);
  EXPECT_EQ(observer.observations().snapshot_save_seconds.count(), 1u);
  EXPECT_THAT(log.take(), IsEmpty());
}

TEST(NodeObserver, RestoresAreInstallsOnlyAfterBoot) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.snapshot_restored(meta_at(10), 4096, 0.02);
  EXPECT_EQ(observer.observations().snapshots_installed, 0u);
  EXPECT_THAT(log.take(), HasSubstr("info restored the snapshot at index 10 (term 2) from disk: 4096 bytes"));
  observer.boot_finished();
  observer.snapshot_restored(meta_at(50), 9000, 0.3);
  EXPECT_EQ(observer.observations().snapshots_installed, 1u);
  EXPECT_THAT(log.take(),
              HasSubstr("info installed a snapshot from the leader at index 50 (term 2): 9000 bytes, "
                        "received and restored in 300.0 ms"));
}

TEST(NodeObserver, SlowAppliesAreCountedAndLoggedReplaysOnlyReported) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  AppliedBatch replay{500, raft::Index(1), raft::Index(500), 2.0, raft::Index(7), 0.01};
  observer.entries_applied(replay);  // booting: a long replay is expected
  EXPECT_EQ(observer.observations().slow_applies, 0u);
  EXPECT_THAT(log.take(), HasSubstr("info replayed 500 committed entries (index 1..500) in 2000.0 ms"));
  observer.boot_finished();
  observer.entries_applied(AppliedBatch{});  // a turn that applied nothing
  observer.entries_applied(AppliedBatch{3, raft::Index(501), raft::Index(503), 0.09, raft::Index(502), 0.05});
  EXPECT_THAT(log.take(), IsEmpty());
  observer.entries_applied(AppliedBatch{2, raft::Index(504), raft::Index(505), 0.15, raft::Index(505), 0.14});
  EXPECT_EQ(observer.observations().slow_applies, 1u);
  EXPECT_THAT(log.take(),
              HasSubstr("warning slow apply: 2 committed entries (index 504..505) took 150.0 ms (over "
                        "100 ms; slowest: index 505, 140.0 ms)"));
}

TEST(NodeObserver, TransportEventsFeedRoundTripsAndThrottledLines) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.on_peer_round_trip(raft::NodeId(2), 300us);
  observer.on_peer_round_trip(raft::NodeId(2), 500us);
  observer.on_peer_round_trip(raft::NodeId(3), 1ms);
  const auto& round_trips = observer.observations().peer_round_trip_seconds;
  ASSERT_EQ(round_trips.size(), 2u);
  EXPECT_EQ(round_trips.at(raft::NodeId(2)).count(), 2u);
  EXPECT_DOUBLE_EQ(round_trips.at(raft::NodeId(2)).sum(), 0.0008);
  observer.on_peer_connected(raft::NodeId(2));  // first connection: nothing to say
  EXPECT_THAT(log.take(), IsEmpty());
  observer.on_peer_failed(raft::NodeId(3), "connecting to 127.0.0.1:7003: Connection refused");
  clock.now += 1s;
  observer.on_peer_failed(raft::NodeId(3), "connecting to 127.0.0.1:7003: Connection refused");
  clock.now += 1s;
  observer.on_peer_connected(raft::NodeId(3));
  observer.on_inbound_refused("127.0.0.1:4444", "bad magic");
  const std::string text = log.take();
  EXPECT_THAT(text,
              HasSubstr("warning peer 3 unreachable: connecting to 127.0.0.1:7003: Connection refused\n"));
  EXPECT_THAT(text, Not(HasSubstr("still unreachable")));
  EXPECT_THAT(text, HasSubstr("info peer 3 reachable again after 2 failures in 2.0 s\n"));
  EXPECT_THAT(text, HasSubstr("warning refused a connection from 127.0.0.1:4444: bad magic\n"));
}

// A leader whose clock is behind the data would otherwise log every write.
TEST(NodeObserver, ALeaderClockBehindTheDataIsLoggedOncePerInterval) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.leader_clock_behind(1'000'000, 1'002'500);
  EXPECT_THAT(log.take(), HasSubstr("warning this host's wall clock is 2.500 s behind the time of the last applied "
                                    "entry"));
  clock.now += 5s;
  observer.leader_clock_behind(1'005'000, 1'007'500);
  observer.leader_clock_behind(1'005'001, 1'007'500);
  EXPECT_THAT(log.take(), IsEmpty());
  clock.now += 5s;
  observer.leader_clock_behind(1'010'000, 1'011'000);
  EXPECT_THAT(log.take(), HasSubstr("1.000 s behind the time of the last applied entry: new writes keep that time "
                                    "(CURRENT_TIMESTAMP stands still) until the clock catches up; check NTP on this "
                                    "host (2 more proposals since the last line)"));
}

TEST(NodeObserver, ObservationsReachTheMetrics) {
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.boot_finished();
  observer.log_written(LogWriteTiming{0.003, 1, 1, 1, true});
  observer.snapshot_started(raft::Index(5));
  observer.snapshot_stored(meta_at(5), 10);
  observer.snapshot_restored(meta_at(9), 10, 0.1);
  observer.on_peer_round_trip(raft::NodeId(2), 150us);
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  metrics.update_from(observer.observations());
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("reefdb_disk_wal_fsync_duration_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_snap_save_total_duration_seconds_count 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_snap_installed_total 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_network_peer_round_trip_time_seconds_count{To=\"2\"} 1\n"));
}

// --- TimedStateMachine --------------------------------------------------------

// Applies take whatever the test says, on the manual clock.
class SlowFakeStateMachine final : public raft::StateMachine {
 public:
  explicit SlowFakeStateMachine(ManualClock& clock) : clock_(clock) {}

  std::map<uint64_t, std::chrono::milliseconds> apply_time;  // by index; default 1 ms
  std::string restored;

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override {
    auto it = apply_time.find(entry.index.value());
    clock_.now += it == apply_time.end() ? 1ms : it->second;
    applied_ = raft::AppliedPosition{entry.index, entry.term};
    return std::string("ok ") + entry.payload;
  }
  raft::AppliedPosition applied() const override { return applied_; }
  absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t) override {
    return std::string(payload);
  }
  absl::StatusOr<std::string> query(std::string_view request) override { return std::string(request); }
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(const raft::Configuration&) override {
    return absl::UnimplementedError("not needed: the observer is told before this is called");
  }
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> begin_restore() override {
    class Restore final : public raft::StateMachineRestore {
     public:
      explicit Restore(SlowFakeStateMachine& owner) : owner_(owner) {}
      absl::Status add_chunk(std::string_view bytes) override {
        if (bytes == "bad") return absl::DataLossError("bad chunk");
        owner_.restored += bytes;
        owner_.clock_.now += 10ms;
        return absl::OkStatus();
      }
      absl::StatusOr<raft::SnapshotMeta> finish() override { return meta_at(77); }

     private:
      SlowFakeStateMachine& owner_;
    };
    return std::unique_ptr<raft::StateMachineRestore>(new Restore(*this));
  }

 private:
  ManualClock& clock_;
  raft::AppliedPosition applied_;
};

raft::LogEntry entry(uint64_t index, std::string payload = "x") {
  return raft::LogEntry{raft::Term(1), raft::Index(index), raft::EntryType::kNormal, std::move(payload)};
}

TEST(TimedStateMachine, ForwardsEverythingAndReportsAppliesPerBatch) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.boot_finished();
  SlowFakeStateMachine inner(clock);
  TimedStateMachine timed(inner, observer);
  inner.apply_time[3] = 120ms;
  EXPECT_EQ(*timed.apply(entry(1, "a")), "ok a");
  EXPECT_EQ(*timed.apply(entry(2)), "ok x");
  timed.finish_batch();  // 2 ms: quiet
  EXPECT_THAT(log.take(), IsEmpty());
  EXPECT_EQ(*timed.prepare_proposal("p", 5), "p");
  EXPECT_EQ(*timed.query("q"), "q");
  EXPECT_EQ(timed.applied().index, raft::Index(2));

  for (uint64_t index = 3; index <= 5; ++index) ASSERT_TRUE(timed.apply(entry(index)).ok());
  timed.finish_batch();
  EXPECT_EQ(observer.observations().slow_applies, 1u);
  EXPECT_THAT(log.take(),
              HasSubstr("slow apply: 3 committed entries (index 3..5) took 122.0 ms (over 100 ms; "
                        "slowest: index 3, 120.0 ms)"));
  timed.finish_batch();  // nothing applied since: nothing reported
  EXPECT_EQ(observer.observations().slow_applies, 1u);
}

TEST(TimedStateMachine, SnapshotsAndRestoresAreReported) {
  CapturedLog log;
  ManualClock clock;
  NodeObserver observer = observer_on(clock);
  observer.boot_finished();
  SlowFakeStateMachine inner(clock);
  TimedStateMachine timed(inner, observer);
  ASSERT_TRUE(timed.apply(entry(1)).ok());
  EXPECT_FALSE(timed.snapshot(raft::Configuration{}).ok());  // the fake's answer, passed through
  clock.now += 5ms;
  observer.snapshot_stored(meta_at(1), 3);  // started at index 1 by snapshot()
  EXPECT_EQ(observer.observations().snapshot_save_seconds.count(), 1u);

  auto restore = timed.begin_restore();
  ASSERT_TRUE(restore.ok());
  ASSERT_TRUE((*restore)->add_chunk("abc").ok());
  ASSERT_TRUE((*restore)->add_chunk("de").ok());
  EXPECT_FALSE((*restore)->add_chunk("bad").ok());  // refused bytes are not counted
  EXPECT_EQ((*restore)->finish()->index, raft::Index(77));
  EXPECT_EQ(inner.restored, "abcde");
  EXPECT_EQ(observer.observations().snapshots_installed, 1u);
  EXPECT_THAT(log.take(),
              HasSubstr("installed a snapshot from the leader at index 77 (term 2): 5 bytes, received "
                        "and restored in 20.0 ms"));
}

// --- StorageThreadLog ---------------------------------------------------------

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "reefdb-observer-XXXXXX").string();
    const char* made = mkdtemp(pattern.data());
    path_ = made == nullptr ? std::string() : std::string(made);
  }
  ~TempDir() {
    if (!path_.empty()) std::filesystem::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(StorageThreadLog, EachTurnIsTimedAndReportedBeforeItsCompletions) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  PosixFileSystem fs;
  auto storage = storage::NodeStorage::open(fs, dir.path());
  ASSERT_TRUE(storage.ok()) << storage.status();
  boost::asio::io_context loop;
  std::vector<std::string> events;
  std::vector<LogWriteTiming> turns;
  std::vector<std::pair<uint64_t, uint64_t>> stored;  // index, bytes
  StorageThreadLogHooks hooks;
  hooks.on_turn = [&](const LogWriteTiming& timing) {
    turns.push_back(timing);
    events.push_back("turn");
  };
  hooks.on_snapshot_stored = [&](const raft::SnapshotMeta& meta, uint64_t bytes) {
    stored.emplace_back(meta.index.value(), bytes);
  };
  {
    StorageThreadLog log(
        **storage, loop,
        [&](uint64_t id, absl::Status status) {
          EXPECT_TRUE(status.ok()) << status;
          events.push_back(absl::StrCat("written ", id));
        },
        hooks);
    raft::LogWrite write;
    write.id = 1;
    write.entries = {entry(1), entry(2), entry(3)};
    write.hard_state = raft::HardState{raft::Term(1), raft::NodeId(1), raft::Index(0)};
    log.submit(std::move(write));
    const auto deadline = Clock::now() + 20s;
    while (events.size() < 2 && Clock::now() < deadline) {
      loop.restart();
      loop.run_for(5ms);
    }
    ASSERT_EQ(events, (std::vector<std::string>{"turn", "written 1"}));
    ASSERT_EQ(turns.size(), 1u);
    EXPECT_EQ(turns[0].writes, 1u);
    EXPECT_EQ(turns[0].entries, 3u);
    EXPECT_EQ(turns[0].groups, 1u);
    EXPECT_TRUE(turns[0].ok);
    EXPECT_GE(turns[0].seconds, 0);
    EXPECT_EQ(log.groups_written(), 1u);

    // Snapshot files: reported once durable, with their size, on the loop
    // (a policy snapshot is finished on the node's background thread); an
    // abandoned one is not.
    {
      auto sink = log.begin_snapshot(meta_at(3, 1));
      ASSERT_TRUE(sink.ok()) << sink.status();
      ASSERT_TRUE((*sink)->add_chunk("0123456789").ok());
      ASSERT_TRUE((*sink)->add_chunk("abcde").ok());
      EXPECT_TRUE(stored.empty());
      ASSERT_TRUE((*sink)->finish().ok());
      EXPECT_TRUE(stored.empty()) << "reported on the finishing thread, not on the loop";
      while (stored.empty() && Clock::now() < deadline) {
        loop.restart();
        loop.run_for(5ms);
      }
    }
    {
      auto abandoned = log.begin_snapshot(meta_at(5, 1));
      ASSERT_TRUE(abandoned.ok()) << abandoned.status();
      ASSERT_TRUE((*abandoned)->add_chunk("zz").ok());
    }
  }
  EXPECT_EQ(stored, (std::vector<std::pair<uint64_t, uint64_t>>{{3, 15}}));
}

}  // namespace
}  // namespace reef::prod
