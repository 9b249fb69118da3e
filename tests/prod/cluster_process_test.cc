// The production node as users meet it: real `reefdb serve` processes on
// 127.0.0.1, real sockets, real files, real signals.
#include <signal.h>
#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/prod/support/process_cluster.h"
#include "transport/frame.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kLeaderTimeoutMs = 20'000;

std::string make_temp_dir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "reefdb-prod-XXXXXX").string();
  const char* dir = mkdtemp(pattern.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

std::string insert_body(const std::string& key, const std::string& value) {
  return nlohmann::json::array({nlohmann::json::array({"INSERT INTO kv(k, v) VALUES(?, ?)", key, value})}).dump();
}

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.') {
      out += static_cast<char>(c);
    } else {
      absl::StrAppend(&out, "%", absl::Hex(c, absl::kZeroPad2));
    }
  }
  return out;
}

class ProcessClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir();
    ASSERT_FALSE(dir_.empty());
    cluster_ = std::make_unique<ProcessCluster>(REEFDB_BINARY, dir_, 3);
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  size_t leader() {
    std::optional<size_t> leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
    EXPECT_TRUE(leader.has_value()) << "no leader; node 1 log: " << cluster_->log_of(1);
    return leader.value_or(1);
  }

  void create_table(size_t node) {
    const HttpReply reply =
        cluster_->http(node, "POST", "/db/execute", R"sql(["CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)"])sql");
    ASSERT_EQ(reply.status, 200) << reply.body;
    ASSERT_FALSE(reply.json()["results"][0].contains("error")) << reply.body;
  }

  // The value of key `k` read on `node` at `level` (after `min_index`).
  HttpReply read(size_t node, const std::string& level, const std::string& k, uint64_t min_index = 0) {
    return cluster_->http(node, "GET",
                          absl::StrCat("/db/query?level=", level, "&min_index=", min_index, "&q=",
                                       url_encode(absl::StrCat("SELECT v FROM kv WHERE k = '", k, "'"))));
  }

  std::set<std::string> keys_on(size_t node, uint64_t min_index) {
    const HttpReply reply =
        cluster_->http(node, "GET", absl::StrCat("/db/query?level=none&min_index=", min_index, "&q=",
                                                 url_encode("SELECT k FROM kv")));
    std::set<std::string> keys;
    const nlohmann::json json = reply.json();
    if (!json.is_object() || !json["results"][0].contains("values")) return keys;
    for (const auto& row : json["results"][0]["values"]) keys.insert(row[0].get<std::string>());
    return keys;
  }

  std::string dir_;
  std::unique_ptr<ProcessCluster> cluster_;
};

TEST_F(ProcessClusterTest, FormsAClusterWritesThroughLeaderAndFollowerAndReadsAtEveryLevel) {
  cluster_->start_all();
  const size_t lead = leader();
  const size_t follower = lead % 3 + 1;
  create_table(lead);

  HttpReply via_leader = cluster_->http(lead, "POST", "/db/execute", insert_body("a", "1"));
  ASSERT_EQ(via_leader.status, 200) << via_leader.body;
  EXPECT_EQ(via_leader.json()["results"][0]["rows_affected"], 1) << via_leader.body;
  HttpReply via_follower = cluster_->http(follower, "POST", "/db/execute", insert_body("b", "2"));
  ASSERT_EQ(via_follower.status, 200) << via_follower.body;
  EXPECT_EQ(via_follower.json()["results"][0]["rows_affected"], 1) << via_follower.body;
  const uint64_t index = via_follower.json()["raft_index"].get<uint64_t>();
  EXPECT_GT(index, via_leader.json()["raft_index"].get<uint64_t>());

  for (const std::string level : {"none", "weak", "linearizable", "strong"}) {
    for (size_t node = 1; node <= 3; ++node) {
      // `none` is local: min_index makes it read-your-writes on any node.
      const HttpReply reply = read(node, level, "b", level == "none" ? index : 0);
      ASSERT_EQ(reply.status, 200) << level << " on node " << node << ": " << reply.body;
      EXPECT_EQ(reply.json()["results"][0]["values"], nlohmann::json::parse(R"([["2"]])"))
          << level << " on node " << node << ": " << reply.body;
    }
  }
}

// The issue's kill-the-leader test: writes from several clients, SIGKILL of
// the leader in the middle, a new leader, the old one back; every write that
// was acknowledged must be on every node.
TEST_F(ProcessClusterTest, SigkillOfTheLeaderUnderLoadLosesNoAcknowledgedWrite) {
  cluster_->start_all();
  const size_t old_leader = leader();
  create_table(old_leader);

  std::mutex mutex;
  std::map<std::string, uint64_t> acknowledged;  // key -> raft index
  std::atomic<bool> stop{false};
  std::atomic<bool> killed{false};
  std::atomic<uint64_t> acknowledged_after_kill{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&, c] {
      for (uint64_t n = 0; !stop; ++n) {
        const size_t node = (c + n) % 3 + 1;
        if (killed && node == old_leader) continue;
        const std::string key = absl::StrCat("c", c, "-", n);
        const HttpReply reply = http_request(cluster_->http_port(node), "POST", "/db/execute?timeout=2s",
                                             insert_body(key, "x"));
        const nlohmann::json json = reply.json();
        if (reply.status != 200 || json["results"][0].value("rows_affected", 0) != 1) continue;
        std::lock_guard lock(mutex);
        acknowledged[key] = json["raft_index"].get<uint64_t>();
        if (killed) ++acknowledged_after_kill;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  cluster_->kill(old_leader, SIGKILL);
  killed = true;
  std::optional<size_t> new_leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
  ASSERT_TRUE(new_leader.has_value());
  EXPECT_NE(*new_leader, old_leader);
  // Clients whose requests were waiting on the dead leader time out (2 s)
  // and retry; keep the load on until the new leader has served writes.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (acknowledged_after_kill < 20 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (std::thread& t : clients) t.join();
  EXPECT_GE(acknowledged_after_kill.load(), 20u) << "the new leader served too few writes";

  cluster_->start(old_leader);
  ASSERT_TRUE(cluster_->wait_for_leader(kLeaderTimeoutMs).has_value());
  uint64_t highest = 0;
  for (const auto& [key, index] : acknowledged) highest = std::max(highest, index);
  ASSERT_TRUE(cluster_->wait_for_applied(highest, 30'000));
  ASSERT_GT(acknowledged.size(), 10u);
  for (size_t node = 1; node <= 3; ++node) {
    const std::set<std::string> keys = keys_on(node, highest);
    for (const auto& [key, index] : acknowledged) {
      EXPECT_TRUE(keys.contains(key)) << "acknowledged write " << key << " (index " << index << ") missing on node "
                                      << node;
    }
  }
}

TEST_F(ProcessClusterTest, WholeClusterKilledAndRestartedKeepsItsData) {
  cluster_->start_all();
  const size_t lead = leader();
  create_table(lead);
  uint64_t index = 0;
  for (int i = 0; i < 20; ++i) {
    const HttpReply reply = cluster_->http(lead, "POST", "/db/execute", insert_body(absl::StrCat("k", i), "v"));
    ASSERT_EQ(reply.status, 200) << reply.body;
    index = reply.json()["raft_index"].get<uint64_t>();
  }
  for (size_t node = 1; node <= 3; ++node) cluster_->kill(node, SIGKILL);
  cluster_->start_all();
  leader();
  ASSERT_TRUE(cluster_->wait_for_applied(index, 30'000));
  for (size_t node = 1; node <= 3; ++node) EXPECT_EQ(keys_on(node, index).size(), 20u) << "node " << node;
}

TEST_F(ProcessClusterTest, BadInputGetsClearErrorsAndTheNodeKeepsServing) {
  cluster_->start_all();
  const size_t lead = leader();
  // On the Raft port: an HTTP request (wrong magic) and a well-formed frame
  // header announcing a 4 GiB frame. Each connection is refused and counted.
  const std::string http_garbage = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88\r\n\r\n";
  const std::string huge_frame = transport::encode_frame_header(transport::FrameHeader{.payload_bytes = 0xFFFFFFFF});
  for (const std::string& bytes : {http_garbage, huge_frame}) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), cluster_->raft_port(lead)});
    boost::asio::write(socket, boost::asio::buffer(bytes));
    char byte = 0;
    boost::system::error_code closed;
    socket.read_some(boost::asio::buffer(&byte, 1), closed);  // the node closes the connection
    EXPECT_TRUE(closed) << "the node kept a connection that sent garbage";
  }
  EXPECT_EQ(cluster_->http(lead, "POST", "/db/execute", "[not json").json()["code"], "malformed_json");
  EXPECT_EQ(cluster_->http(lead, "POST", "/db/execute", "[not json").status, 400);
  EXPECT_EQ(cluster_->http(lead, "GET", "/db/execute").status, 405);
  EXPECT_EQ(cluster_->http(lead, "GET", "/no/such/path").status, 404);
  const HttpReply too_large =
      cluster_->http(lead, "POST", "/db/execute", absl::StrCat("[\"", std::string(5 << 20, 'x'), "\"]"));
  EXPECT_EQ(too_large.status, 413) << too_large.body.substr(0, 200);
  const HttpReply bad_sql = cluster_->http(lead, "POST", "/db/execute", R"sql(["INSERT INTO nowhere VALUES(1)"])sql");
  ASSERT_EQ(bad_sql.status, 200) << bad_sql.body;
  EXPECT_THAT(bad_sql.json()["results"][0].value("error", ""), HasSubstr("no such table"));
  // Still a healthy cluster.
  EXPECT_EQ(cluster_->http(lead, "GET", "/readyz").status, 200);
  create_table(lead);
  EXPECT_EQ(cluster_->http(lead, "POST", "/db/execute", insert_body("still", "here")).status, 200);
  // Both bad connections were refused and counted (the node reads them
  // asynchronously: poll).
  nlohmann::json status;
  for (int attempt = 0; attempt < 100; ++attempt) {
    status = cluster_->http(lead, "GET", "/status").json();
    if (status["transport"]["frames_refused"].get<uint64_t>() >= 2) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_GE(status["transport"]["frames_refused"].get<uint64_t>(), 2u) << status.dump();
}

}  // namespace
}  // namespace reef::prod::testing
