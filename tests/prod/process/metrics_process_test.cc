// GET /metrics and the log of real `reefdb serve` processes (label prod):
// after writes, every node reports durable log writes, the snapshots it took
// (the threshold is set low through REEFDB_SNAPSHOT_ENTRIES) and probe round
// trips to its peers; a follower that missed compacted entries installs a
// snapshot from the leader and says so, and the leader logs the follower
// going away and coming back.
//
// Only counts and presence are checked, never how fast anything was.
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/prod/support/process_cluster.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kLeaderTimeoutMs = 20'000;
constexpr uint64_t kWaitMs = 30'000;
constexpr int kSnapshotEntries = 20;

// Every sample of a Prometheus text page, by series ("name{labels}" as
// rendered).
std::map<std::string, double> samples_of(const std::string& page) {
  std::map<std::string, double> samples;
  for (absl::string_view line : absl::StrSplit(page, '\n')) {
    if (line.empty() || line.front() == '#') continue;
    const size_t space = line.rfind(' ');
    double value = 0;
    if (space == absl::string_view::npos || !absl::SimpleAtod(line.substr(space + 1), &value)) continue;
    samples[std::string(line.substr(0, space))] = value;
  }
  return samples;
}

class MetricsProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reefdb-metrics");
    ASSERT_FALSE(dir_.empty());
    // Inherited by the nodes (flags would win, and the cluster passes none
    // for snapshots): every node snapshots after a few writes.
    setenv("REEFDB_SNAPSHOT_ENTRIES", std::to_string(kSnapshotEntries).c_str(), 1);
    cluster_ = std::make_unique<ProcessCluster>(REEFDB_BINARY, dir_, 3);
    cluster_->start_all();
  }
  void TearDown() override {
    cluster_.reset();
    unsetenv("REEFDB_SNAPSHOT_ENTRIES");
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  size_t leader() {
    std::optional<size_t> leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
    EXPECT_TRUE(leader.has_value()) << "no leader; logs in " << dir_;
    return leader.value_or(1);
  }

  void create_table(size_t node) {
    const HttpReply reply = cluster_->http(node, "POST", "/db/execute",
                                           R"sql(["CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)"])sql");
    ASSERT_EQ(reply.status, 200) << reply.body;
  }

  // Writes `count` rows through `node`; returns the highest Raft index.
  uint64_t write_rows(size_t node, int from, int count) {
    uint64_t index = 0;
    for (int i = from; i < from + count; ++i) {
      const std::string body =
          nlohmann::json::array({nlohmann::json::array({"INSERT INTO kv(k, v) VALUES(?, ?)",
                                                        absl::StrCat("k", i), absl::StrCat("v", i)})})
              .dump();
      const HttpReply reply = cluster_->http(node, "POST", "/db/execute", body);
      EXPECT_EQ(reply.status, 200) << reply.body;
      const nlohmann::json json = reply.json();
      if (json.is_object() && json.contains("raft_index"))
        index = std::max(index, json["raft_index"].get<uint64_t>());
    }
    return index;
  }

  std::map<std::string, double> metrics(size_t node) {
    const HttpReply reply = cluster_->http(node, "GET", "/metrics");
    EXPECT_EQ(reply.status, 200);
    return samples_of(reply.body);
  }

  // Polls `node`'s /metrics until `holds` (the processes probe and snapshot
  // on their own time); the last page seen either way.
  std::map<std::string, double> metrics_when(
      size_t node, const std::function<bool(std::map<std::string, double>&)>& holds) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kWaitMs);
    std::map<std::string, double> page = metrics(node);
    while (!holds(page) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      page = metrics(node);
    }
    return page;
  }

  std::string dir_;
  std::unique_ptr<ProcessCluster> cluster_;
};

std::string to_label(size_t node) { return absl::StrCat("{To=\"", node, "\"}"); }

TEST_F(MetricsProcessTest, EveryNodeReportsDiskWritesSnapshotsAndPeerRoundTrips) {
  const size_t lead = leader();
  create_table(lead);
  const uint64_t index = write_rows(lead, 0, 2 * kSnapshotEntries);
  ASSERT_GT(index, 0u);
  ASSERT_TRUE(cluster_->wait_for_applied(index, kWaitMs));

  for (size_t node = 1; node <= 3; ++node) {
    SCOPED_TRACE(absl::StrCat("node ", node));
    // The leader probes both followers; a follower's only link is to the leader.
    std::vector<size_t> probed;
    for (size_t peer = 1; peer <= 3; ++peer) {
      if (peer != node && (node == lead || peer == lead)) probed.push_back(peer);
    }
    auto page = metrics_when(node, [&](std::map<std::string, double>& m) {
      for (size_t peer : probed) {
        if (m[absl::StrCat("reefdb_network_peer_round_trip_time_seconds_count", to_label(peer))] < 1)
          return false;
      }
      return m["reefdb_snap_save_total_duration_seconds_count"] >= 1;
    });
    EXPECT_EQ(page["reefdb_server_has_leader"], 1);
    EXPECT_EQ(page["reefdb_server_is_leader"], node == lead ? 1 : 0);
    EXPECT_GE(page["reefdb_raft_applied_index"], static_cast<double>(index));
    // Every write reached this node's disk: at least one sync per few writes.
    EXPECT_GT(page["reefdb_disk_wal_fsync_duration_seconds_count"], 0);
    EXPECT_EQ(page["reefdb_disk_wal_fsync_duration_seconds_bucket{le=\"+Inf\"}"],
              page["reefdb_disk_wal_fsync_duration_seconds_count"]);
    EXPECT_GE(page["reefdb_snap_save_total_duration_seconds_count"], 1);
    EXPECT_GT(page["reefdb_raft_snapshot_index"], 0);
    EXPECT_TRUE(
        page.contains("reefdb_snap_installed_total"));  // 0, unless a follower fell behind a compaction
    for (size_t peer : probed) {
      const std::string to = to_label(peer);
      EXPECT_GE(page[absl::StrCat("reefdb_network_peer_round_trip_time_seconds_count", to)], 1) << to;
      EXPECT_GT(page[absl::StrCat("reefdb_network_peer_sent_bytes_total", to)], 0) << to;
      EXPECT_TRUE(page.contains(absl::StrCat("reefdb_network_peer_reconnects_total", to))) << to;
      EXPECT_TRUE(page.contains(absl::StrCat("reefdb_network_peer_connect_failures_total", to))) << to;
      EXPECT_TRUE(page.contains(
          absl::StrCat("reefdb_network_peer_sent_failures_total{To=\"", peer, "\",reason=\"queue_full\"}")))
          << to;
    }
    EXPECT_GT(page["reefdb_network_received_bytes_total"], 0);
    EXPECT_EQ(page["reefdb_network_refused_total{reason=\"bad_frame\"}"], 0);
    EXPECT_EQ(page["reefdb_network_refused_total{reason=\"bad_message\"}"], 0);
    EXPECT_TRUE(page.contains("reefdb_server_slow_apply_total"));
    EXPECT_THAT(file_text(cluster_->log_of(node)), HasSubstr("snapshot taken at index"));
  }
  auto leader_page = metrics(lead);
  EXPECT_GE(leader_page["reefdb_http_requests_total{code=\"200\",method=\"POST\"}"], 2 * kSnapshotEntries);
}

TEST_F(MetricsProcessTest, AFollowerBehindTheLeadersSnapshotInstallsItAndTheLeaderLogsTheOutage) {
  const size_t lead = leader();
  create_table(lead);
  const size_t follower = lead == 1 ? 2 : 1;
  cluster_->kill(follower, SIGKILL);
  // Enough for the leader to snapshot and compact past everything the
  // follower holds.
  const uint64_t index = write_rows(lead, 0, 2 * kSnapshotEntries);
  auto leader_page = metrics_when(lead, [&](std::map<std::string, double>& m) {
    return m["reefdb_raft_snapshot_index"] >= static_cast<double>(index - kSnapshotEntries);
  });
  ASSERT_GE(leader_page["reefdb_snap_save_total_duration_seconds_count"], 1);

  cluster_->start(follower);
  ASSERT_TRUE(cluster_->wait_for_applied(index, kWaitMs));
  auto page = metrics_when(
      follower, [](std::map<std::string, double>& m) { return m["reefdb_snap_installed_total"] >= 1; });
  EXPECT_GE(page["reefdb_snap_installed_total"], 1);
  EXPECT_THAT(file_text(cluster_->log_of(follower)),
              HasSubstr("installed a snapshot from the leader at index"));

  // The leader saw the follower go and come back, in a couple of lines.
  leader_page = metrics(lead);
  EXPECT_GE(leader_page[absl::StrCat("reefdb_network_peer_reconnects_total", to_label(follower))], 1);
  const std::string leader_log = file_text(cluster_->log_of(lead));
  EXPECT_THAT(leader_log, HasSubstr(absl::StrCat("peer ", follower, " unreachable: ")));
  EXPECT_THAT(leader_log, HasSubstr(absl::StrCat("peer ", follower, " reachable again after ")));
}

}  // namespace
}  // namespace reef::prod::testing
