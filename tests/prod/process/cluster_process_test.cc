// The production node as users meet it: real `reefdb serve` processes on
// 127.0.0.1, real sockets, real files, real signals.
#include <signal.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
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
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/prod/support/process_cluster.h"
#include "transport/frame.h"

namespace reef::prod::testing {
namespace {

using ::testing::HasSubstr;

constexpr uint64_t kLeaderTimeoutMs = 20'000;

// gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kUnderAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kUnderAddressSanitizer = true;
#else
constexpr bool kUnderAddressSanitizer = false;
#endif
#else
constexpr bool kUnderAddressSanitizer = false;
#endif

std::string insert_body(const std::string& key, const std::string& value) {
  return nlohmann::json::array({nlohmann::json::array({"INSERT INTO kv(k, v) VALUES(?, ?)", key, value})}).dump();
}

// Runs a command and returns what it printed on stdout.
std::string output_of(const std::string& command) {
  std::string out;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return out;
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe)) > 0;) out.append(buffer, n);
  pclose(pipe);
  return out;
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

// Clients inserting unique keys through the nodes in turn, each write with
// a 2 s timeout; remembers which were acknowledged (key -> raft index).
// The answer to a POST whose header announces a `content_length`-byte body
// and asks to continue before sending it, as curl does for large bodies.
HttpReply answer_to_announced_body(uint16_t port, const std::string& target, size_t content_length) {
  namespace beast = boost::beast;
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    const std::string header =
        absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n",
                     "Content-Length: ", content_length, "\r\nExpect: 100-continue\r\n\r\n");
    boost::asio::write(stream, boost::asio::buffer(header));
    beast::flat_buffer buffer;
    beast::http::response<beast::http::string_body> response;
    beast::http::read(stream, buffer, response);
    return HttpReply{static_cast<int>(response.result_int()), response.body(), ""};
  } catch (const std::exception&) {
    return HttpReply{};
  }
}

class WriteLoad {
 public:
  WriteLoad(const ProcessCluster& cluster, int clients) : cluster_(cluster) {
    for (int c = 0; c < clients; ++c) threads_.emplace_back([this, c] { run(c); });
  }
  ~WriteLoad() { stop(); }

  // From now on no client sends to these nodes (killed or about to be
  // stopped); replaces the previous set.
  void avoid(std::set<size_t> nodes) {
    std::lock_guard lock(mutex_);
    avoided_ = std::move(nodes);
    acknowledged_since_avoid_ = 0;
  }
  bool wait_for_acknowledged_since_avoid(uint64_t count, uint64_t timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (std::chrono::steady_clock::now() < deadline) {
      {
        std::lock_guard lock(mutex_);
        if (acknowledged_since_avoid_ >= count) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::map<std::string, uint64_t> stop() {
    stop_ = true;
    for (std::thread& t : threads_) {
      if (t.joinable()) t.join();
    }
    std::lock_guard lock(mutex_);
    return acknowledged_;
  }

 private:
  void run(int client) {
    for (uint64_t n = 0; !stop_; ++n) {
      const size_t node = (client + n) % cluster_.size() + 1;
      {
        std::lock_guard lock(mutex_);
        if (avoided_.contains(node)) continue;
      }
      const std::string key = absl::StrCat("c", client, "-", n);
      const HttpReply reply =
          http_request(cluster_.http_port(node), "POST", "/db/execute?timeout=2s", insert_body(key, "x"));
      const nlohmann::json json = reply.json();
      if (reply.status != 200 || json["results"][0].value("rows_affected", 0) != 1) continue;
      std::lock_guard lock(mutex_);
      acknowledged_[key] = json["raft_index"].get<uint64_t>();
      ++acknowledged_since_avoid_;
    }
  }

  const ProcessCluster& cluster_;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::map<std::string, uint64_t> acknowledged_;
  std::set<size_t> avoided_;
  uint64_t acknowledged_since_avoid_ = 0;
  std::vector<std::thread> threads_;
};

class ProcessClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reefdb-prod");
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

  // Every key in kv on `node`; nullopt when the node does not answer.
  std::optional<std::set<std::string>> keys_on(size_t node, uint64_t min_index) {
    const HttpReply reply =
        cluster_->http(node, "GET", absl::StrCat("/db/query?level=none&min_index=", min_index, "&q=",
                                                 url_encode("SELECT k FROM kv")));
    const nlohmann::json json = reply.json();
    if (reply.status != 200 || !json.is_object() || !json["results"][0].is_object()) return std::nullopt;
    std::set<std::string> keys;
    if (!json["results"][0].contains("values")) return keys;  // an empty table
    for (const auto& row : json["results"][0]["values"]) keys.insert(row[0].get<std::string>());
    return keys;
  }

  // Inserts k0..k{count-1} through `node`; returns the highest raft index.
  uint64_t insert_keys(size_t node, int count) {
    uint64_t index = 0;
    for (int i = 0; i < count; ++i) {
      const HttpReply reply = cluster_->http(node, "POST", "/db/execute", insert_body(absl::StrCat("k", i), "v"));
      EXPECT_EQ(reply.status, 200) << reply.body;
      index = std::max(index, reply.json().value("raft_index", uint64_t{0}));
    }
    return index;
  }

  // Every acknowledged write missing from a node, one line each. Waits
  // (up to `catch_up_ms`) until every running node applied the highest
  // acknowledged index; a node that never gets there is read as it stands
  // (a lost write then shows as missing rather than as a timeout).
  std::vector<std::string> missing_writes(const std::map<std::string, uint64_t>& acknowledged, uint64_t catch_up_ms) {
    uint64_t highest = 0;
    for (const auto& [key, index] : acknowledged) highest = std::max(highest, index);
    const bool caught_up = cluster_->wait_for_applied(highest, catch_up_ms);
    std::vector<std::string> missing;
    for (size_t node = 1; node <= cluster_->size(); ++node) {
      const std::optional<std::set<std::string>> keys = keys_on(node, caught_up ? highest : 0);
      if (!keys) {
        missing.push_back(absl::StrCat("node ", node, " does not answer; log: ", cluster_->log_of(node)));
        continue;
      }
      for (const auto& [key, index] : acknowledged) {
        if (!keys->contains(key)) missing.push_back(absl::StrCat(key, " (index ", index, ") on node ", node));
      }
    }
    return missing;
  }

  // The kill-the-leader scenario: 4 clients write through every node; the
  // leader is SIGKILLed; a new leader must serve at least 20 writes; the
  // old leader restarts. With `stall_followers`, both followers are stopped
  // (SIGSTOP) for half a second before the kill while the clients write to
  // the leader only, and are SIGKILLed and restarted after it: whatever the
  // leader acknowledged meanwhile, only its disk held. (Stopped processes
  // still receive TCP data into their socket buffers; killing them drops
  // it, as a network cut would have.) Returns the acknowledged writes
  // missing anywhere (and any node that does not answer).
  std::vector<std::string> kill_the_leader_under_load(bool stall_followers, uint64_t catch_up_ms) {
    cluster_->start_all();
    const size_t old_leader = leader();
    create_table(old_leader);
    WriteLoad load(*cluster_, 4);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::set<size_t> followers;
    for (size_t node = 1; node <= 3; ++node) {
      if (node != old_leader) followers.insert(node);
    }
    if (stall_followers) {
      // Clients write only to the leader (their requests to the followers
      // finish first), then the followers stop: the writes the leader
      // receives now cannot reach a majority.
      load.avoid(followers);
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      for (size_t node : followers) cluster_->signal(node, SIGSTOP);
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    cluster_->kill(old_leader, SIGKILL);
    load.avoid({old_leader});
    for (size_t node : followers) {
      if (!stall_followers) continue;
      cluster_->kill(node, SIGKILL);
      cluster_->start(node);
    }
    const std::optional<size_t> new_leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
    EXPECT_TRUE(new_leader.has_value());
    EXPECT_NE(new_leader.value_or(old_leader), old_leader);
    // Clients whose requests were waiting on the dead leader time out (2 s)
    // and retry; keep the load on until the new leader has served writes.
    EXPECT_TRUE(load.wait_for_acknowledged_since_avoid(20, 20'000)) << "the new leader served too few writes";
    const std::map<std::string, uint64_t> acknowledged = load.stop();
    EXPECT_GT(acknowledged.size(), 10u);
    cluster_->start(old_leader);
    return missing_writes(acknowledged, catch_up_ms);
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

// SQL's "now" is the leader's time of day, not the time since the host
// booted: CURRENT_TIMESTAMP and unixepoch() land within seconds of this
// machine's clock, on the leader and on a follower's replica alike.
TEST_F(ProcessClusterTest, CurrentTimestampAndUnixepochAreTheTimeOfDay) {
  cluster_->start_all();
  const size_t lead = leader();
  const HttpReply written = cluster_->http(
      lead, "POST", "/db/execute",
      R"sql(["CREATE TABLE clock (ts TEXT, epoch INTEGER)", "INSERT INTO clock VALUES (CURRENT_TIMESTAMP, unixepoch())"])sql");
  ASSERT_EQ(written.status, 200) << written.body;
  ASSERT_FALSE(written.json()["results"][1].contains("error")) << written.body;
  const int64_t test_now = static_cast<int64_t>(time(nullptr));
  const uint64_t index = written.json()["raft_index"].get<uint64_t>();
  for (size_t node = 1; node <= 3; ++node) {
    const HttpReply read = cluster_->http(
        node, "GET", absl::StrCat("/db/query?level=none&min_index=", index, "&q=", url_encode("SELECT ts, epoch FROM clock")));
    ASSERT_EQ(read.status, 200) << read.body;
    const nlohmann::json row = read.json()["results"][0]["values"][0];
    ASSERT_TRUE(row.is_array()) << read.body;
    const int64_t epoch = row[1].get<int64_t>();
    EXPECT_NEAR(static_cast<double>(epoch), static_cast<double>(test_now), 5) << "node " << node << ": " << read.body;
    std::tm tm{};
    const std::string ts = row[0].get<std::string>();
    ASSERT_NE(strptime(ts.c_str(), "%Y-%m-%d %H:%M:%S", &tm), nullptr) << ts;
    EXPECT_EQ(static_cast<int64_t>(timegm(&tm)), epoch) << "CURRENT_TIMESTAMP " << ts << " is not unixepoch() " << epoch;
  }
}

// docs/HTTP_API.md's example, as rqlite does it: with `redirect`, a node
// that is not the leader answers 301 with the leader's address instead of
// forwarding, for writes and for strong, weak and linearizable reads;
// level-none reads are still served where they arrive.
TEST_F(ProcessClusterTest, RedirectOnAFollowerAnswers301WithTheLeadersAddress) {
  cluster_->start_all();
  const size_t lead = leader();
  const size_t follower = lead % 3 + 1;
  create_table(lead);
  const std::string leader_base = absl::StrCat("http://127.0.0.1:", cluster_->http_port(lead));
  const std::string select = url_encode("SELECT count(*) FROM kv");
  const std::vector<std::pair<std::string, std::string>> redirected = {
      {"POST", "/db/execute?redirect"},
      {"POST", "/db/request?redirect"},
      {"GET", absl::StrCat("/db/query?level=strong&redirect&q=", select)},
      {"GET", absl::StrCat("/db/query?redirect&q=", select)},
      {"GET", absl::StrCat("/db/query?level=linearizable&redirect&q=", select)},
  };
  for (const auto& [method, target] : redirected) {
    const HttpReply reply =
        cluster_->http(follower, method, target, method == "POST" ? insert_body("r", "1") : "");
    EXPECT_EQ(reply.status, 301) << method << " " << target << ": " << reply.body;
    EXPECT_EQ(reply.location, leader_base + target) << method << " " << target;
    EXPECT_EQ(reply.json()["leader"], leader_base) << reply.body;
  }
  // Nothing was forwarded: the redirected inserts did not happen.
  const HttpReply count = cluster_->http(lead, "GET", absl::StrCat("/db/query?level=strong&q=", select));
  EXPECT_EQ(count.json()["results"][0]["values"], nlohmann::json::parse("[[0]]")) << count.body;

  const HttpReply local =
      cluster_->http(follower, "GET", absl::StrCat("/db/query?level=none&redirect&q=", select));
  EXPECT_EQ(local.status, 200) << local.body;
  EXPECT_EQ(local.location, "");
  // Without `redirect` the follower forwards; on the leader `redirect` changes nothing.
  const HttpReply forwarded = cluster_->http(follower, "POST", "/db/execute", insert_body("f", "1"));
  EXPECT_EQ(forwarded.status, 200) << forwarded.body;
  EXPECT_EQ(forwarded.json()["results"][0]["rows_affected"], 1) << forwarded.body;
  const HttpReply on_leader = cluster_->http(lead, "POST", "/db/execute?redirect", insert_body("l", "1"));
  EXPECT_EQ(on_leader.status, 200) << on_leader.body;
  EXPECT_EQ(on_leader.json()["results"][0]["rows_affected"], 1) << on_leader.body;
}

// The limits agree (docs/CONFIGURATION.md, "Limits"): a transaction of up
// to 16 MiB of JSON is one log entry that reaches every node; a larger body
// is refused before it is read, with one error.
TEST_F(ProcessClusterTest, AFifteenMegabyteTransactionIsReplicatedAndALargerBodyGets413) {
  // The leader parses and encodes the request on its node loop, and every
  // node applies it there: hundreds of milliseconds for 15 MB on this
  // machine, seconds when it is loaded, while the loop sends no heartbeats
  // (docs/CONFIGURATION.md, "Limits"). So the cluster gets a 6 s election
  // timeout (its first election still comes within 12 s), and the write is
  // retried, as a client would, with the same exactly-once command id if a
  // leadership change still cut it off. Under AddressSanitizer at -O0 the
  // same work costs about a microsecond a byte (6 MB held a leader's loop
  // for 5 s), so there the transaction is 1.2 MB: still above the 1 MiB
  // entry limit this test was written against; the full size runs in the
  // optimized build.
  cluster_->add_flags({"--raft-election-timeout-ms=6000"});
  constexpr size_t kValueBytes = kUnderAddressSanitizer ? 8'000 : 100'000;
  cluster_->start_all();
  ASSERT_EQ(cluster_->http(leader(), "POST", "/db/execute", R"json(["CREATE TABLE big (id INTEGER PRIMARY KEY, v TEXT)"])json")
                .status,
            200);
  constexpr int kStatements = 150;
  nlohmann::json statements = nlohmann::json::array();
  for (int i = 0; i < kStatements; ++i) {
    statements.push_back({"INSERT INTO big(id, v) VALUES(?, ?)", i, std::string(kValueBytes, 'a' + i % 26)});
  }
  const std::string body = statements.dump();
  ASSERT_GT(body.size(), kStatements * kValueBytes);
  ASSERT_GT(body.size(), kUnderAddressSanitizer ? size_t{1} << 20 : size_t{15'000'000});
  HttpReply written;
  for (int attempt = 0; attempt < 3; ++attempt) {
    written = cluster_->http(leader(), "POST", "/db/execute?transaction&timeout=60s&client_id=77&seq=1", body);
    if (written.body.find("leadership changed") == std::string::npos) break;
  }
  ASSERT_EQ(written.status, 200) << written.body.substr(0, 1000);
  const nlohmann::json results = written.json()["results"];
  ASSERT_EQ(results.size(), size_t{kStatements}) << written.body.substr(0, 1000);
  for (const nlohmann::json& result : results) {
    EXPECT_EQ(result.value("rows_affected", 0), 1) << result;
    EXPECT_FALSE(result.contains("error")) << result;
  }
  const size_t lead = leader();
  const size_t follower = lead % 3 + 1;
  const uint64_t index = written.json()["raft_index"].get<uint64_t>();
  const HttpReply read =
      cluster_->http(follower, "GET",
                     absl::StrCat("/db/query?level=none&min_index=", index,
                                  "&q=", url_encode("SELECT count(*), sum(length(v)) FROM big")));
  ASSERT_EQ(read.status, 200) << read.body;
  const nlohmann::json expected =
      nlohmann::json::array({nlohmann::json::array({kStatements, kStatements * kValueBytes})});
  EXPECT_EQ(read.json()["results"][0]["values"], expected) << read.body;

  const HttpReply too_large =
      answer_to_announced_body(cluster_->http_port(lead), "/db/execute?transaction", 17'000'000);
  EXPECT_EQ(too_large.status, 413) << too_large.body;
  EXPECT_EQ(too_large.json()["code"], "body_too_large") << too_large.body;
  EXPECT_FALSE(too_large.json().contains("results")) << too_large.body;
}

// A body within the HTTP limit whose batch encodes larger than a log entry
// (parameters cost more encoded than in JSON) is refused up front with one
// 413, instead of failing every statement after it was accepted.
TEST_F(ProcessClusterTest, ATransactionThatWouldNotFitInALogEntryGetsOne413) {
  cluster_ = std::make_unique<ProcessCluster>(REEFDB_BINARY, dir_, 1);
  cluster_->add_flags({"--raft-max-entry-bytes=1048576", "--limits-max-http-body-bytes=1048576",
                       "--limits-max-frame-bytes=2097152"});
  cluster_->start_all();
  leader();
  ASSERT_EQ(cluster_->http(1, "POST", "/db/execute", R"json(["CREATE TABLE t (a INTEGER)"])json").status, 200);
  std::vector<std::string> placeholders(1000, "(?)");
  nlohmann::json statement = nlohmann::json::array({absl::StrCat("INSERT INTO t(a) VALUES ", absl::StrJoin(placeholders, ","))});
  for (int i = 0; i < 1000; ++i) statement.push_back(i % 10);
  const std::string body = nlohmann::json(std::vector<nlohmann::json>(100, statement)).dump();
  ASSERT_LT(body.size(), 1048576u);
  const HttpReply reply = cluster_->http(1, "POST", "/db/execute?transaction", body);
  EXPECT_EQ(reply.status, 413) << reply.body.substr(0, 1000);
  EXPECT_EQ(reply.json()["code"], "body_too_large") << reply.body.substr(0, 1000);
  EXPECT_THAT(reply.json().value("error", ""), HasSubstr("the transaction (statements 0 to 99) encodes to "));
  EXPECT_THAT(reply.json().value("error", ""), HasSubstr("raft.max_entry_bytes"));
  const HttpReply count = cluster_->http(1, "GET", absl::StrCat("/db/query?q=", url_encode("SELECT count(*) FROM t")));
  EXPECT_EQ(count.json()["results"][0]["values"], nlohmann::json::parse("[[0]]")) << count.body;
}

// The issue's kill-the-leader test: writes from several clients, SIGKILL of
// the leader in the middle, a new leader, the old one back; every write that
// was acknowledged must be on every node.
TEST_F(ProcessClusterTest, SigkillOfTheLeaderUnderLoadLosesNoAcknowledgedWrite) {
  EXPECT_THAT(kill_the_leader_under_load(/*stall_followers=*/false, 30'000), ::testing::IsEmpty());
}

// The same with both followers stopped just before the kill: a correct
// leader acknowledges nothing it could not replicate meanwhile.
TEST_F(ProcessClusterTest, SigkillOfTheLeaderAfterItsFollowersStalledLosesNoAcknowledgedWrite) {
  EXPECT_THAT(kill_the_leader_under_load(/*stall_followers=*/true, 30'000), ::testing::IsEmpty());
}

// Teeth: with a leader that commits without a quorum (a reefdb built with
// that deliberate bug), the same check must find lost acknowledged writes.
class BuggyProcessClusterTest : public ProcessClusterTest {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("reefdb-prod");
    ASSERT_FALSE(dir_.empty());
    cluster_ = std::make_unique<ProcessCluster>(REEFDB_COMMIT_WITHOUT_QUORUM_BINARY, dir_, 3);
  }
};

TEST_F(BuggyProcessClusterTest, KillTheLeaderCheckCatchesALeaderThatCommitsWithoutAQuorum) {
  const std::vector<std::string> missing = kill_the_leader_under_load(/*stall_followers=*/true, 5'000);
  EXPECT_THAT(missing, ::testing::Not(::testing::IsEmpty()));
  std::printf("commit-without-quorum: %zu findings, first: %s\n", missing.size(),
              missing.empty() ? "-" : missing.front().c_str());
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
  for (size_t node = 1; node <= 3; ++node) EXPECT_EQ(keys_on(node, index).value_or(std::set<std::string>{}).size(), 20u) << "node " << node;
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
  const HttpReply too_large = answer_to_announced_body(cluster_->http_port(lead), "/db/execute", (16 << 20) + 1);
  EXPECT_EQ(too_large.status, 413) << too_large.body.substr(0, 200);
  const HttpReply bad_sql = cluster_->http(lead, "POST", "/db/execute", R"sql(["INSERT INTO nowhere VALUES(1)"])sql");
  ASSERT_EQ(bad_sql.status, 200) << bad_sql.body;
  EXPECT_THAT(bad_sql.json()["results"][0].value("error", ""), HasSubstr("no such table"));
  // A typo on the read endpoint gets SQLite's own message, not "not a read".
  const HttpReply typo = cluster_->http(lead, "GET", "/db/query?q=SELEC%20*%20FROM%20foo");
  ASSERT_EQ(typo.status, 200) << typo.body;
  EXPECT_EQ(typo.json()["results"][0].value("error", ""), "near \"SELEC\": syntax error") << typo.body;
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

TEST_F(ProcessClusterTest, AdminSnapshotCompactsTheLogAndTheNodeRestartsFromIt) {
  cluster_->start_all();
  const size_t lead = leader();
  const size_t follower = lead % 3 + 1;
  create_table(lead);
  const uint64_t index = insert_keys(lead, 20);
  ASSERT_TRUE(cluster_->wait_for_applied(index, 10'000));
  EXPECT_EQ(cluster_->http(follower, "GET", "/status").json()["raft"]["snapshot_index"], 0) << "no policy snapshot yet";
  EXPECT_EQ(cluster_->http(follower, "GET", "/admin/snapshot").status, 405);

  const HttpReply taken = cluster_->http(follower, "POST", "/admin/snapshot");
  ASSERT_EQ(taken.status, 200) << taken.body;
  const uint64_t snapshot_index = taken.json()["snapshot_index"].get<uint64_t>();
  EXPECT_GE(snapshot_index, index);
  EXPECT_GT(taken.json()["snapshot_term"].get<uint64_t>(), 0u) << taken.body;
  EXPECT_EQ(taken.json()["already_current"], false) << taken.body;
  EXPECT_EQ(cluster_->http(follower, "GET", "/status").json()["raft"]["snapshot_index"], snapshot_index);
  const HttpReply again = cluster_->http(follower, "POST", "/admin/snapshot");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.json()["already_current"], true) << again.body;
  EXPECT_EQ(again.json()["snapshot_index"], snapshot_index) << again.body;
  const HttpReply on_leader = cluster_->http(lead, "POST", "/admin/snapshot");
  ASSERT_EQ(on_leader.status, 200) << on_leader.body;
  EXPECT_GE(on_leader.json()["snapshot_index"].get<uint64_t>(), index);

  // On disk: the snapshot file, and recovery would start from it.
  cluster_->kill(follower, SIGKILL);
  const std::string verify = output_of(absl::StrCat(REEFDB_BINARY, " storage verify ", cluster_->data_dir(follower)));
  EXPECT_THAT(verify, HasSubstr(absl::StrCat("snapshot index ", snapshot_index, ",")));
  EXPECT_THAT(verify, HasSubstr("SOUND"));
  cluster_->start(follower);
  ASSERT_TRUE(cluster_->wait_for_leader(kLeaderTimeoutMs).has_value());
  ASSERT_TRUE(cluster_->wait_for_applied(index, 10'000));
  EXPECT_EQ(cluster_->http(follower, "GET", "/status").json()["raft"]["snapshot_index"], snapshot_index);
  EXPECT_EQ(keys_on(follower, index).value_or(std::set<std::string>{}).size(), 20u);
  // And it keeps replicating after the snapshot.
  const HttpReply after = cluster_->http(lead, "POST", "/db/execute", insert_body("after", "snapshot"));
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(keys_on(follower, after.json()["raft_index"].get<uint64_t>()).value_or(std::set<std::string>{}).size(), 21u);
}

// rqlite's freshness: a level-none read with `freshness` is refused by a node
// that has not heard from the leader for that long. With the leader and the
// other follower stopped (SIGSTOP), the remaining follower hears nobody and
// cannot elect anyone.
TEST_F(ProcessClusterTest, FollowerOutOfTouchWithTheLeaderRefusesFreshnessBoundedReads) {
  cluster_->start_all();
  const size_t lead = leader();
  const size_t follower = lead % 3 + 1;
  const size_t other = follower % 3 + 1;
  create_table(lead);
  const uint64_t index = insert_keys(lead, 1);
  ASSERT_TRUE(cluster_->wait_for_applied(index, 10'000));
  const std::string select = url_encode("SELECT v FROM kv WHERE k = 'k0'");
  const std::string bounded = absl::StrCat("/db/query?level=none&freshness=200ms&q=", select);
  // Heartbeats every 40 ms; a generous bound while in touch keeps a busy
  // machine from failing the test.
  const std::string generous = absl::StrCat("/db/query?level=none&freshness=2s&q=", select);
  const HttpReply in_touch = cluster_->http(follower, "GET", generous);
  ASSERT_EQ(in_touch.status, 200) << in_touch.body;

  cluster_->signal(lead, SIGSTOP);
  cluster_->signal(other, SIGSTOP);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const HttpReply refused = cluster_->http(follower, "GET", bounded);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json()["code"], "stale_read") << refused.body;
  EXPECT_THAT(refused.json().value("error", ""), HasSubstr("stale read")) << refused.body;
  const HttpReply strict = cluster_->http(follower, "GET", absl::StrCat(bounded, "&freshness_strict"));
  EXPECT_EQ(strict.json()["code"], "stale_read") << strict.body;
  const HttpReply unbounded = cluster_->http(follower, "GET", absl::StrCat("/db/query?level=none&q=", select));
  ASSERT_EQ(unbounded.status, 200) << unbounded.body;
  EXPECT_EQ(unbounded.json()["results"][0]["values"], nlohmann::json::parse(R"([["v"]])")) << unbounded.body;
  const nlohmann::json status = cluster_->http(follower, "GET", "/status").json();
  EXPECT_TRUE(status["raft"]["last_leader_contact_ms_ago"].is_null() ||
              status["raft"]["last_leader_contact_ms_ago"].get<uint64_t>() >= 500)
      << status.dump();

  cluster_->signal(lead, SIGCONT);
  cluster_->signal(other, SIGCONT);
  ASSERT_TRUE(cluster_->wait_for_leader(kLeaderTimeoutMs).has_value());
  HttpReply back;
  for (int attempt = 0; attempt < 100 && back.status != 200; ++attempt) {
    back = cluster_->http(follower, "GET", generous);
    if (back.status != 200) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(back.status, 200) << back.body;
}

// SIGTERM on the leader: it hands leadership to the most caught-up voter
// before exiting, so a new leader serves at once instead of after an
// election timeout plus a vote; nothing acknowledged is lost.
TEST_F(ProcessClusterTest, SigtermOfTheLeaderHandsOverAndLosesNoAcknowledgedWrite) {
  cluster_->start_all();
  const size_t old_leader = leader();
  create_table(old_leader);

  WriteLoad load(*cluster_, 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  const auto sent = std::chrono::steady_clock::now();
  cluster_->kill(old_leader, SIGTERM);  // returns once the process exited
  load.avoid({old_leader});
  const std::optional<size_t> new_leader = cluster_->wait_for_leader(kLeaderTimeoutMs);
  const auto took_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent).count();
  ASSERT_TRUE(new_leader.has_value());
  EXPECT_NE(*new_leader, old_leader);
  // An election after a crash takes 300..600 ms of silence plus a vote; the
  // hand-over needs neither. Not asserted tightly: the machine may be busy.
  EXPECT_LT(took_ms, 5000) << "new leader after " << took_ms << " ms";
  std::printf("SIGTERM to agreed new leader: %lld ms\n", static_cast<long long>(took_ms));
  std::ifstream log_file(cluster_->log_of(old_leader));
  const std::string log((std::istreambuf_iterator<char>(log_file)), std::istreambuf_iterator<char>());
  EXPECT_THAT(log, HasSubstr(absl::StrCat("handing leadership to node ", *new_leader)));
  EXPECT_THAT(log, ::testing::Not(HasSubstr("did not finish in time")));

  EXPECT_TRUE(load.wait_for_acknowledged_since_avoid(10, 20'000)) << "the new leader served too few writes";
  const std::map<std::string, uint64_t> acknowledged = load.stop();
  cluster_->start(old_leader);
  ASSERT_TRUE(cluster_->wait_for_leader(kLeaderTimeoutMs).has_value());
  EXPECT_THAT(missing_writes(acknowledged, 30'000), ::testing::IsEmpty());
}

}  // namespace
}  // namespace reef::prod::testing
