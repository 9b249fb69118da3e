// The metrics registry's Prometheus text output, checked byte for byte, and
// the node metric set built on it.
#include "prod/observe/metrics.h"

#include <cmath>
#include <limits>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prod/observe/node_metrics.h"

namespace reef::prod {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(Metrics, CounterRendersHelpTypeAndSamples) {
  MetricsRegistry registry;
  registry.counter("requests_total", "Requests served.", {{"path", "/a"}}).increment();
  registry.counter("requests_total", "Requests served.", {{"path", "/a"}}).increment(2);
  registry.counter("requests_total", "Requests served.", {{"path", "/b"}});
  EXPECT_EQ(registry.render(),
            "# HELP requests_total Requests served.\n"
            "# TYPE requests_total counter\n"
            "requests_total{path=\"/a\"} 3\n"
            "requests_total{path=\"/b\"} 0\n");
}

TEST(Metrics, GaugeRendersIntegersFractionsAndSpecialValues) {
  MetricsRegistry registry;
  registry.gauge("g", "A gauge.", {{"k", "int"}}).set(42);
  registry.gauge("g", "A gauge.", {{"k", "neg"}}).set(-7);
  registry.gauge("g", "A gauge.", {{"k", "frac"}}).set(0.25);
  registry.gauge("g", "A gauge.", {{"k", "inf"}}).set(std::numeric_limits<double>::infinity());
  registry.gauge("g", "A gauge.", {{"k", "nan"}}).set(std::nan(""));
  Gauge& moving = registry.gauge("g", "A gauge.", {{"k", "moved"}});
  moving.add(5);
  moving.add(-1.5);
  EXPECT_EQ(registry.render(),
            "# HELP g A gauge.\n"
            "# TYPE g gauge\n"
            "g{k=\"frac\"} 0.25\n"
            "g{k=\"inf\"} +Inf\n"
            "g{k=\"int\"} 42\n"
            "g{k=\"moved\"} 3.5\n"
            "g{k=\"nan\"} NaN\n"
            "g{k=\"neg\"} -7\n");
}

TEST(Metrics, HistogramRendersCumulativeBucketsSumAndCount) {
  MetricsRegistry registry;
  Histogram& h = registry.histogram("latency_seconds", "Latency.", {0.005, 0.01, 0.5}, {{"op", "get"}});
  h.observe(0.001);
  h.observe(0.005);  // on the bound: belongs to le="0.005"
  h.observe(0.2);
  h.observe(3);
  EXPECT_EQ(registry.render(),
            "# HELP latency_seconds Latency.\n"
            "# TYPE latency_seconds histogram\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.005\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.01\"} 2\n"
            "latency_seconds_bucket{op=\"get\",le=\"0.5\"} 3\n"
            "latency_seconds_bucket{op=\"get\",le=\"+Inf\"} 4\n"
            "latency_seconds_sum{op=\"get\"} 3.206\n"
            "latency_seconds_count{op=\"get\"} 4\n");
}

TEST(Metrics, HistogramWithoutLabels) {
  MetricsRegistry registry;
  registry.histogram("h", "H.", {1, 2}).observe(1.5);
  EXPECT_EQ(registry.render(),
            "# HELP h H.\n"
            "# TYPE h histogram\n"
            "h_bucket{le=\"1\"} 0\n"
            "h_bucket{le=\"2\"} 1\n"
            "h_bucket{le=\"+Inf\"} 1\n"
            "h_sum 1.5\n"
            "h_count 1\n");
}

TEST(Metrics, EscapesLabelValuesAndHelp) {
  MetricsRegistry registry;
  registry.gauge("g", "Line one\nback\\slash \"quotes\" stay.", {{"v", "a\"b\\c\nd"}}).set(1);
  EXPECT_EQ(registry.render(),
            "# HELP g Line one\\nback\\\\slash \"quotes\" stay.\n"
            "# TYPE g gauge\n"
            "g{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Metrics, RenderingIsSortedWhateverTheRegistrationOrder) {
  MetricsRegistry first;
  first.gauge("zeta", "Z.").set(1);
  first.counter("alpha_total", "A.", {{"b", "2"}, {"a", "1"}}).increment();
  first.counter("alpha_total", "A.", {{"b", "1"}, {"a", "1"}}).increment();
  MetricsRegistry second;
  second.counter("alpha_total", "A.", {{"a", "1"}, {"b", "1"}}).increment();
  second.counter("alpha_total", "A.", {{"a", "1"}, {"b", "2"}}).increment();
  second.gauge("zeta", "Z.").set(1);
  EXPECT_EQ(first.render(), second.render());
  EXPECT_EQ(first.render(),
            "# HELP alpha_total A.\n"
            "# TYPE alpha_total counter\n"
            "alpha_total{a=\"1\",b=\"1\"} 1\n"
            "alpha_total{a=\"1\",b=\"2\"} 1\n"
            "# HELP zeta Z.\n"
            "# TYPE zeta gauge\n"
            "zeta 1\n");
}

TEST(Metrics, SameSeriesIsTheSameObject) {
  MetricsRegistry registry;
  Counter& a = registry.counter("c_total", "C.", {{"x", "1"}});
  for (int i = 0; i < 100; ++i) registry.counter("c_total", "C.", {{"x", std::to_string(i + 2)}});
  EXPECT_EQ(&a, &registry.counter("c_total", "C.", {{"x", "1"}}));
}

TEST(Metrics, FormatsSampleValues) {
  EXPECT_EQ(format_sample_value(0), "0");
  EXPECT_EQ(format_sample_value(-0.0), "0");
  EXPECT_EQ(format_sample_value(1e6), "1000000");
  EXPECT_EQ(format_sample_value(0.1), "0.1");
  EXPECT_EQ(format_sample_value(0.0001), "0.0001");
  EXPECT_EQ(format_sample_value(0.00001), "1e-05");
  EXPECT_EQ(format_sample_value(8.192), "8.192");
  EXPECT_EQ(format_sample_value(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(format_sample_value(1e300), "1e+300");
  EXPECT_EQ(format_sample_value(-std::numeric_limits<double>::infinity()), "-Inf");
}

TEST(Metrics, ExponentialBucketsMatchEtcd) {
  const std::vector<double> buckets = exponential_buckets(0.001, 2, 14);
  ASSERT_EQ(buckets.size(), 14u);
  EXPECT_EQ(format_sample_value(buckets.front()), "0.001");
  EXPECT_EQ(format_sample_value(buckets.back()), "8.192");
}

TEST(MetricsDeathTest, MisuseIsABug) {
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.counter("m", "M.");
        registry.gauge("m", "M.");
      },
      "registered again");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.counter("bad name", "M.");
      },
      "invalid metric name");
  EXPECT_DEATH(
      {
        MetricsRegistry registry;
        registry.counter("m", "M.", {{"a", "1"}});
        registry.counter("m", "M.", {{"b", "1"}});
      },
      "same label names");
  EXPECT_DEATH({ Counter().increment(-1); }, "only goes up");
  EXPECT_DEATH(
      {
        Counter c;
        c.advance_to(5);
        c.advance_to(4);
      },
      "only goes up");
  EXPECT_DEATH({ Histogram({1, 2}).copy_from(Histogram({1, 3})); }, "other bounds");
}

TEST(Metrics, MirroredCountersAndHistogramsTakeTheirSourcesValues) {
  MetricsRegistry registry;
  Counter& mirrored = registry.counter("c_total", "C.");
  mirrored.advance_to(7);
  mirrored.advance_to(7);  // unchanged is fine
  Histogram source({0.1, 1});
  source.observe(0.05);
  source.observe(5);
  Histogram& copy = registry.histogram("h_seconds", "H.", {0.1, 1});
  copy.observe(0.5);  // replaced, not added to
  copy.copy_from(source);
  EXPECT_EQ(registry.render(),
            "# HELP c_total C.\n"
            "# TYPE c_total counter\n"
            "c_total 7\n"
            "# HELP h_seconds H.\n"
            "# TYPE h_seconds histogram\n"
            "h_seconds_bucket{le=\"0.1\"} 1\n"
            "h_seconds_bucket{le=\"1\"} 1\n"
            "h_seconds_bucket{le=\"+Inf\"} 2\n"
            "h_seconds_sum 5.05\n"
            "h_seconds_count 2\n");
}

// --- NodeMetrics ----------------------------------------------------------------

raft::NodeStatus leader_status() {
  raft::NodeStatus status;
  status.id = raft::NodeId(1);
  status.role = raft::Role::kLeader;
  status.term = raft::Term(4);
  status.leader = raft::NodeId(1);
  status.commit = raft::Index(90);
  status.applied = raft::Index(88);
  status.last_index = raft::Index(95);
  status.snapshot_index = raft::Index(50);
  status.log_writes_in_flight = 2;
  status.pending_requests = 3;
  return status;
}

TEST(NodeMetrics, GaugesFollowTheStatus) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  metrics.update_from(leader_status());
  const std::string text = registry.render();
  for (const char* line : {"reefdb_server_has_leader 1\n", "reefdb_server_is_leader 1\n",
                           "reefdb_server_leader_changes_seen_total 1\n",
                           "reefdb_server_proposals_committed_total 90\n",
                           "reefdb_server_proposals_applied_total 88\n", "reefdb_server_proposals_pending 3\n",
                           "reefdb_server_proposals_failed_total 0\n", "reefdb_server_stopped 0\n",
                           "reefdb_raft_term 4\n", "reefdb_raft_commit_index 90\n", "reefdb_raft_applied_index 88\n",
                           "reefdb_raft_last_index 95\n", "reefdb_raft_snapshot_index 50\n",
                           "reefdb_raft_log_entries 45\n", "reefdb_raft_log_writes_in_flight 2\n",
                           "# TYPE reefdb_server_has_leader gauge\n",
                           "# TYPE reefdb_server_leader_changes_seen_total counter\n",
                           "# TYPE reefdb_disk_wal_fsync_duration_seconds histogram\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

TEST(NodeMetrics, CountsLeaderChangesLikeEtcd) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  raft::NodeStatus status = leader_status();
  status.role = raft::Role::kFollower;
  status.leader = raft::NodeId(2);
  metrics.update_from(status);  // first leader seen: 1
  metrics.update_from(status);  // same leader: still 1
  status.leader.reset();
  metrics.update_from(status);  // leader lost: no change counted
  EXPECT_THAT(registry.render(), HasSubstr("reefdb_server_has_leader 0\n"));
  status.leader = raft::NodeId(2);
  metrics.update_from(status);  // regained (same node): 2
  status.leader = raft::NodeId(3);
  metrics.update_from(status);  // another node: 3
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("reefdb_server_leader_changes_seen_total 3\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_server_is_leader 0\n"));
}

TEST(NodeMetrics, LogEntriesNeverUnderflow) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  raft::NodeStatus status = leader_status();
  status.last_index = raft::Index(40);  // just installed a snapshot at 50
  metrics.update_from(status);
  EXPECT_THAT(registry.render(), HasSubstr("reefdb_raft_log_entries 0\n"));
}

TEST(NodeMetrics, EventFunctionsFeedTheirMetrics) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  metrics.proposal_failed();
  metrics.set_db_size_bytes(4096);
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("reefdb_server_proposals_failed_total 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_db_total_size_in_bytes 4096\n"));
}

TEST(NodeMetrics, ObservationsAreCopiedNotAddedUp) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  NodeObservations observations;
  observations.log_write_seconds.observe(0.003);
  observations.snapshot_save_seconds.observe(1.5);
  observations.snapshots_installed = 1;
  observations.slow_applies = 2;
  observations.observe_peer_round_trip(raft::NodeId(2), 0.00015);
  metrics.update_from(observations);
  metrics.update_from(observations);  // a second scrape of the same totals
  const std::string text = registry.render();
  for (const char* line : {"reefdb_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 0\n",
                           "reefdb_disk_wal_fsync_duration_seconds_bucket{le=\"0.004\"} 1\n",
                           "reefdb_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"} 1\n",
                           "reefdb_disk_wal_fsync_duration_seconds_sum 0.003\n",
                           "reefdb_disk_wal_fsync_duration_seconds_count 1\n",
                           "reefdb_snap_save_total_duration_seconds_count 1\n", "reefdb_snap_installed_total 1\n",
                           "reefdb_server_slow_apply_total 2\n",
                           "reefdb_network_peer_round_trip_time_seconds_bucket{To=\"2\",le=\"0.0001\"} 0\n",
                           "reefdb_network_peer_round_trip_time_seconds_bucket{To=\"2\",le=\"0.0002\"} 1\n",
                           "reefdb_network_peer_round_trip_time_seconds_count{To=\"2\"} 1\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
  observations.log_write_seconds.observe(0.5);
  metrics.update_from(observations);
  EXPECT_THAT(registry.render(), HasSubstr("reefdb_disk_wal_fsync_duration_seconds_count 2\n"));
}

TEST(NodeMetrics, TransportCountersPerPeerAndReason) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  AsioTransportStats stats;
  stats.bytes_received = 50;
  stats.frames_refused = 1;
  stats.messages_refused = 2;
  AsioTransportStats::Peer& two = stats.peers[raft::NodeId(2)];
  two.bytes_sent = 100;
  two.connect_failures = 4;
  two.reconnects = 3;
  two.dropped.queue_full = 5;
  two.dropped.connection_lost = 6;
  stats.peers[raft::NodeId(3)].dropped.unknown_peer = 1;
  metrics.update_from(stats);
  two.bytes_sent = 150;
  metrics.update_from(stats);
  const std::string text = registry.render();
  for (const char* line : {"reefdb_network_received_bytes_total 50\n",
                           "reefdb_network_refused_total{reason=\"bad_frame\"} 1\n",
                           "reefdb_network_refused_total{reason=\"bad_message\"} 2\n",
                           "reefdb_network_peer_sent_bytes_total{To=\"2\"} 150\n",
                           "reefdb_network_peer_connect_failures_total{To=\"2\"} 4\n",
                           "reefdb_network_peer_reconnects_total{To=\"2\"} 3\n",
                           "reefdb_network_peer_sent_failures_total{To=\"2\",reason=\"queue_full\"} 5\n",
                           "reefdb_network_peer_sent_failures_total{To=\"2\",reason=\"connection_lost\"} 6\n",
                           "reefdb_network_peer_sent_failures_total{To=\"2\",reason=\"closed\"} 0\n",
                           "reefdb_network_peer_sent_failures_total{To=\"3\",reason=\"unknown_peer\"} 1\n",
                           "reefdb_network_peer_reconnects_total{To=\"3\"} 0\n"}) {
    EXPECT_THAT(text, HasSubstr(line));
  }
}

TEST(NodeMetrics, HttpLabelsStayBounded) {
  MetricsRegistry registry;
  NodeMetrics metrics(registry);
  metrics.http_request_finished("GET", 200, 0.002);
  metrics.http_request_finished("GET", 200, 0.02);
  metrics.http_request_finished("BREW", 418, 0.001);
  metrics.http_request_finished("POST", 1234, 0.001);
  const std::string text = registry.render();
  EXPECT_THAT(text, HasSubstr("reefdb_http_requests_total{code=\"200\",method=\"GET\"} 2\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_http_requests_total{code=\"418\",method=\"other\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_http_requests_total{code=\"other\",method=\"POST\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("reefdb_http_request_duration_seconds_count{method=\"GET\"} 2\n"));
  EXPECT_THAT(text, Not(HasSubstr("BREW")));
}

}  // namespace
}  // namespace reef::prod
