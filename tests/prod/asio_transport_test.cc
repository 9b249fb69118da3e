// prod/asio_transport.h over real sockets on 127.0.0.1 with ephemeral ports:
// every message kind between three transports, reconnection to a peer that
// starts late or restarts, queue bounds, and refusal of garbage, foreign
// clusters and oversized frames without disturbing other peers.
//
// Everything runs on one io_context in the test thread. Waits are "run the
// loop until this holds", bounded by generous deadlines (kDeadline), never
// sleeps that assume how fast something happens.
#include "prod/asio_transport.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "prod/asio_transport_address.h"
#include "tests/transport/node_message_text.h"
#include "tests/transport/sample_messages.h"
#include "transport/frame.h"
#include "transport/message_codec.h"

namespace reef::prod {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using raft::NodeId;
using raft::NodeMessage;
using ::testing::HasSubstr;
using transport::testing::node_message_text;

constexpr uint64_t kCluster = 42;
constexpr std::chrono::milliseconds kDeadline = 20s;

// Runs the loop until `done` holds; false after `timeout`. `every`, if
// given, runs about every 20 ms meanwhile (to keep sending, as a node would).
bool run_until(asio::io_context& loop, const std::function<bool()>& done,
               const std::function<void()>& every = nullptr, std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto next_every = std::chrono::steady_clock::now();
  while (!done()) {
    const auto now = std::chrono::steady_clock::now();
    if (now > deadline) return false;
    if (every && now >= next_every) {
      every();
      next_every = now + 20ms;
    }
    loop.restart();
    loop.run_for(5ms);
  }
  return true;
}

std::string local(uint16_t port) { return absl::StrCat("127.0.0.1:", port); }

// A port nobody listens on right now (bound, read, released).
uint16_t unused_port(asio::io_context& loop) {
  tcp::acceptor probe(loop, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return probe.local_endpoint().port();
}

AsioTransportOptions options_for(uint64_t self, std::map<NodeId, std::string> peers = {}) {
  AsioTransportOptions o;
  o.self = NodeId(self);
  o.cluster_id = kCluster;
  o.peers = std::move(peers);
  o.reconnect_backoff_initial = 5ms;
  o.reconnect_backoff_max = 50ms;
  o.jitter_seed = self;
  o.max_frame_bytes = 64 << 10;
  o.max_peer_queue_bytes = 1 << 20;
  return o;
}

// One transport and what it handed to the node.
struct TestNode {
  std::unique_ptr<AsioTransport> transport;
  std::vector<NodeMessage> received;
  std::vector<NodeId> unreachable;

  static std::unique_ptr<TestNode> start(asio::io_context& loop, AsioTransportOptions options) {
    auto node = std::make_unique<TestNode>();
    TestNode* raw = node.get();
    absl::StatusOr<std::unique_ptr<AsioTransport>> transport = AsioTransport::create(
        loop, std::move(options), [raw](NodeMessage m) { raw->received.push_back(std::move(m)); },
        [raw](NodeId peer) { raw->unreachable.push_back(peer); });
    EXPECT_TRUE(transport.ok()) << transport.status();
    if (!transport.ok()) return nullptr;
    node->transport = std::move(*transport);
    return node;
  }
  uint16_t port() const { return transport->listen_port(); }
  const AsioTransportStats& stats() const { return transport->stats(); }
};

NodeMessage heartbeat(uint64_t from, uint64_t to, uint64_t round) {
  const NodeId f(from), t(to);
  return NodeMessage{f, t, raft::Message{f, t, raft::Term(1), raft::Heartbeat{raft::Index(0), round}}};
}

NodeMessage forwarded_request(uint64_t from, uint64_t to, uint64_t id, size_t payload_bytes) {
  return NodeMessage{
      NodeId(from), NodeId(to),
      raft::ForwardedRequest{id, raft::RequestKind::kWrite, std::string(payload_bytes, 'p'), raft::Index(0)}};
}

uint64_t round_of(const NodeMessage& m) {
  return std::get<raft::Heartbeat>(std::get<raft::Message>(m.body).body).round;
}

TEST(AsioTransportTest, ThreeTransportsExchangeEveryMessageKind) {
  asio::io_context loop;
  std::vector<std::unique_ptr<TestNode>> nodes;
  for (uint64_t id = 1; id <= 3; ++id) nodes.push_back(TestNode::start(loop, options_for(id)));
  for (uint64_t id = 1; id <= 3; ++id) {
    for (uint64_t peer = 1; peer <= 3; ++peer) {
      if (peer == id) continue;
      ASSERT_TRUE(nodes[id - 1]->transport->set_peer(NodeId(peer), local(nodes[peer - 1]->port())).ok());
    }
  }
  for (uint64_t from = 1; from <= 3; ++from) {
    for (uint64_t to = 1; to <= 3; ++to) {
      if (from == to) continue;
      for (NodeMessage& m : transport::testing::one_message_of_each_kind(NodeId(from), NodeId(to))) {
        nodes[from - 1]->transport->send(std::move(m));
      }
    }
  }
  ASSERT_TRUE(run_until(loop, [&] {
    for (const auto& node : nodes) {
      if (node->received.size() < 28) return false;
    }
    return true;
  }));
  for (uint64_t to = 1; to <= 3; ++to) {
    const TestNode& node = *nodes[to - 1];
    EXPECT_EQ(node.received.size(), 28u);
    // Per sender, in the order sent and unchanged.
    std::map<uint64_t, std::vector<std::string>> by_sender;
    for (const NodeMessage& m : node.received) by_sender[m.from.value()].push_back(node_message_text(m));
    for (uint64_t from = 1; from <= 3; ++from) {
      if (from == to) continue;
      std::vector<std::string> expected;
      for (const NodeMessage& m : transport::testing::one_message_of_each_kind(NodeId(from), NodeId(to))) {
        expected.push_back(node_message_text(m));
      }
      EXPECT_EQ(by_sender[from], expected) << "from " << from << " to " << to;
    }
    EXPECT_EQ(node.stats().frames_sent, 28u);
    EXPECT_EQ(node.stats().frames_received, 28u);
    EXPECT_EQ(node.stats().messages_delivered, 28u);
    EXPECT_EQ(node.stats().connections_established, 2u);
    EXPECT_EQ(node.stats().dropped.total(), 0u);
    EXPECT_EQ(node.stats().frames_refused + node.stats().messages_refused, 0u);
    EXPECT_GT(node.stats().bytes_sent, 28 * transport::kFrameHeaderBytes);
    EXPECT_TRUE(node.unreachable.empty());
  }
}

TEST(AsioTransportTest, APeerThatStartsLateIsReachedAfterReconnecting) {
  asio::io_context loop;
  const uint16_t port = unused_port(loop);
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(port)}}));
  uint64_t round = 0;
  auto keep_sending = [&] { a->transport->send(heartbeat(1, 2, round++)); };
  // Nobody listens yet: attempts fail, the node hears the peer is unreachable.
  ASSERT_TRUE(run_until(
      loop, [&] { return a->stats().connect_failures >= 2 && !a->unreachable.empty(); }, keep_sending));
  EXPECT_EQ(a->unreachable.front(), NodeId(2));
  EXPECT_GT(a->stats().dropped.connection_lost, 0u);
  EXPECT_THAT(a->transport->peer_last_error(NodeId(2)), HasSubstr("refused"));

  AsioTransportOptions b_options = options_for(2);
  b_options.listen_address = local(port);
  auto b = TestNode::start(loop, b_options);
  ASSERT_TRUE(run_until(
      loop, [&] { return !b->received.empty(); }, keep_sending));
  EXPECT_EQ(b->received.front().from, NodeId(1));
  EXPECT_GE(a->stats().reconnects, 1u);
}

TEST(AsioTransportTest, ARestartedPeerGetsMessagesAgain) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  const uint16_t port = b->port();
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(port)}}));
  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 1; }));

  b.reset();  // the peer goes away; A notices the closed connection
  ASSERT_TRUE(run_until(loop, [&] { return a->stats().connections_lost == 1; }));
  EXPECT_THAT(a->unreachable, ::testing::Contains(NodeId(2)));

  AsioTransportOptions restarted = options_for(2);
  restarted.listen_address = local(port);
  b = TestNode::start(loop, restarted);
  uint64_t round = 1;
  ASSERT_TRUE(run_until(
      loop, [&] { return !b->received.empty(); }, [&] { a->transport->send(heartbeat(1, 2, round++)); }));
  EXPECT_EQ(a->stats().connections_established, 2u);
  EXPECT_GE(a->stats().reconnects, 1u);
}

TEST(AsioTransportTest, AFullQueueDropsTheNewestAndReportsThePeer) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.max_peer_queue_messages = 4;
  auto a = TestNode::start(loop, a_options);
  // All in one loop turn: nothing can be written before the sixth send.
  for (uint64_t round = 0; round < 10; ++round) a->transport->send(heartbeat(1, 2, round));
  EXPECT_EQ(a->stats().dropped.queue_full, 6u);
  EXPECT_TRUE(a->unreachable.empty());  // posted, not called from inside send()

  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 4 && !a->unreachable.empty(); }));
  std::vector<uint64_t> rounds;
  for (const NodeMessage& m : b->received) rounds.push_back(round_of(m));
  EXPECT_EQ(rounds, (std::vector<uint64_t>{0, 1, 2, 3}));     // the oldest stayed
  EXPECT_EQ(a->unreachable, std::vector<NodeId>{NodeId(2)});  // six drops, one report

  // Drained, the queue takes messages again.
  a->transport->send(heartbeat(1, 2, 10));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 5; }));
  EXPECT_EQ(a->stats().dropped.queue_full, 6u);
}

TEST(AsioTransportTest, TheQueueByteBoundDropsToo) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.max_frame_bytes = 2000;
  a_options.max_peer_queue_bytes = 5000;
  auto a = TestNode::start(loop, a_options);
  for (uint64_t id = 0; id < 4; ++id) a->transport->send(forwarded_request(1, 2, id, 1500));
  EXPECT_EQ(a->stats().dropped.queue_full, 1u);  // three of ~1.6 KB fit in 5000 bytes
  a->transport->send(forwarded_request(1, 2, 9, 3000));
  EXPECT_EQ(a->stats().dropped.too_large, 1u);
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 3; }));
}

TEST(AsioTransportTest, ManyMessagesArriveInOrderInBatches) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.max_peer_queue_messages = 5000;
  a_options.max_write_batch_bytes = 4096;  // many batches
  auto a = TestNode::start(loop, a_options);
  for (uint64_t round = 0; round < 3000; ++round) a->transport->send(heartbeat(1, 2, round));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 3000; }));
  for (uint64_t round = 0; round < 3000; ++round) ASSERT_EQ(round_of(b->received[round]), round);
  EXPECT_EQ(a->stats().frames_sent, 3000u);
  EXPECT_EQ(a->stats().bytes_sent, b->stats().bytes_received);
}

TEST(AsioTransportTest, StoppingFromInsideTheMessageCallbackIsSafe) {
  asio::io_context loop;
  std::unique_ptr<AsioTransport> b;
  size_t delivered = 0;
  AsioTransportOptions b_options = options_for(2);
  b = std::move(*AsioTransport::create(
      loop, b_options,
      [&](NodeMessage) {
        ++delivered;
        b->stop();
      },
      nullptr));
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(b->listen_port())}}));
  for (uint64_t round = 0; round < 5; ++round) a->transport->send(heartbeat(1, 2, round));
  ASSERT_TRUE(run_until(loop, [&] { return a->stats().connections_lost == 1; }));
  EXPECT_EQ(delivered, 1u);
  EXPECT_TRUE(b->stopped());
}

TEST(AsioTransportTest, UnknownPeersAreDroppedAndReported) {
  asio::io_context loop;
  auto a = TestNode::start(loop, options_for(1));
  a->transport->send(heartbeat(1, 7, 0));
  EXPECT_EQ(a->stats().dropped.unknown_peer, 1u);
  ASSERT_TRUE(run_until(loop, [&] { return !a->unreachable.empty(); }));
  EXPECT_EQ(a->unreachable.front(), NodeId(7));
}

// A raw TCP client: connects, writes `bytes`, and reports when the server
// closed the connection.
struct RawClient {
  tcp::socket socket;
  bool closed_by_server = false;
  char byte = 0;

  RawClient(asio::io_context& loop, uint16_t port) : socket(loop) {
    socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
  }
  void send_and_watch(const std::string& bytes) {
    asio::write(socket, asio::buffer(bytes));
    watch();
  }
  void watch() {
    socket.async_read_some(asio::buffer(&byte, 1), [this](const boost::system::error_code& error, size_t) {
      if (error) {
        closed_by_server = true;
      } else {
        watch();
      }
    });
  }
};

// Each bad client gets its connection closed and counted; a well-behaved
// peer sending before, during and after is not disturbed.
class RefusalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    b_ = TestNode::start(loop_, options_for(2));
    a_ = TestNode::start(loop_, options_for(1, {{NodeId(2), local(b_->port())}}));
    a_->transport->send(heartbeat(1, 2, 0));
    ASSERT_TRUE(run_until(loop_, [&] { return b_->received.size() == 1; }));
  }

  void expect_refused(const std::string& bytes) {
    RawClient client(loop_, b_->port());
    client.send_and_watch(bytes);
    uint64_t round = 1;
    ASSERT_TRUE(run_until(
        loop_, [&] { return client.closed_by_server; },
        [&] { a_->transport->send(heartbeat(1, 2, round++)); }));
    // The good peer kept going, and nothing the bad client sent was delivered.
    const size_t before = b_->received.size();
    ASSERT_TRUE(run_until(
        loop_, [&] { return b_->received.size() > before; },
        [&] { a_->transport->send(heartbeat(1, 2, round++)); }));
    for (const NodeMessage& m : b_->received) EXPECT_EQ(m.from, NodeId(1));
    EXPECT_EQ(a_->stats().connections_lost, 0u);
  }

  asio::io_context loop_;
  std::unique_ptr<TestNode> a_;
  std::unique_ptr<TestNode> b_;
};

TEST_F(RefusalTest, GarbageClosesTheConnection) {
  expect_refused("GET / HTTP/1.1\r\nHost: reef\r\nAccept: */*\r\n\r\n");
  EXPECT_EQ(b_->stats().frames_refused, 1u);
  EXPECT_EQ(b_->stats().inbound_accepted, 2u);
}

TEST_F(RefusalTest, AFrameOfAnotherClusterClosesTheConnection) {
  expect_refused(transport::encode_frame(transport::encode_message(kCluster + 1, heartbeat(9, 2, 0))));
  EXPECT_EQ(b_->stats().messages_refused, 1u);
  EXPECT_EQ(b_->stats().frames_refused, 0u);
}

TEST_F(RefusalTest, AnOversizedLengthClosesTheConnection) {
  const uint32_t too_long = (64 << 10) + 1;  // options_for's max_frame_bytes + 1
  expect_refused(
      transport::encode_frame_header(transport::FrameHeader{transport::kFrameFormatVersion, too_long, 0}));
  EXPECT_EQ(b_->stats().frames_refused, 1u);
}

TEST_F(RefusalTest, ADamagedFrameClosesTheConnection) {
  std::string frame = transport::encode_frame(transport::encode_message(kCluster, heartbeat(1, 2, 99)));
  frame.back() ^= 0x10;
  expect_refused(frame);
  EXPECT_EQ(b_->stats().frames_refused, 1u);
}

TEST_F(RefusalTest, AnotherFormatVersionClosesTheConnection) {
  const std::string payload = transport::encode_message(kCluster, heartbeat(1, 2, 99));
  expect_refused(transport::encode_frame_header(transport::FrameHeader{
                     2, static_cast<uint32_t>(payload.size()), transport::frame_checksum(payload)}) +
                 payload);
  EXPECT_EQ(b_->stats().frames_refused, 1u);
}

TEST(AsioTransportTest, StopClosesEverythingAndDropsLaterSends) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(b->port())}}));
  b->transport->set_peer(NodeId(1), local(a->port())).IgnoreError();
  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 1; }));

  b->transport->stop();
  EXPECT_TRUE(b->transport->stopped());
  b->transport->send(heartbeat(2, 1, 0));
  EXPECT_EQ(b->stats().dropped.closed, 1u);
  // A sees its connection closed, and nobody listens on B's port any more.
  ASSERT_TRUE(run_until(loop, [&] { return a->stats().connections_lost == 1; }));
  uint64_t round = 1;
  ASSERT_TRUE(run_until(
      loop, [&] { return a->stats().connect_failures >= 1; },
      [&] { a->transport->send(heartbeat(1, 2, round++)); }));
  EXPECT_EQ(b->received.size(), 1u);
  b->transport->stop();  // idempotent
}

TEST(AsioTransportTest, SetPeerMovesAPeerToANewAddress) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  auto c = TestNode::start(loop, options_for(2));  // the same node id, elsewhere
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(b->port())}}));
  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 1; }));
  ASSERT_TRUE(a->transport->set_peer(NodeId(2), local(c->port())).ok());
  a->transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until(loop, [&] { return c->received.size() == 1; }));
  EXPECT_EQ(b->received.size(), 1u);
  EXPECT_EQ(a->stats().connections_established, 2u);

  a->transport->remove_peer(NodeId(2));
  a->transport->send(heartbeat(1, 2, 2));
  EXPECT_EQ(a->stats().dropped.unknown_peer, 1u);
}

TEST(AsioTransportTest, CreateRefusesBadOptionsAndBusyPorts) {
  asio::io_context loop;
  auto bad = [&](AsioTransportOptions o) {
    return AsioTransport::create(loop, std::move(o), nullptr, nullptr).status();
  };
  AsioTransportOptions no_self = options_for(1);
  no_self.self = NodeId(0);
  EXPECT_EQ(bad(no_self).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(bad(options_for(1, {{NodeId(2), "localhost"}})).message(), HasSubstr("no port"));
  AsioTransportOptions tiny_queue = options_for(1);
  tiny_queue.max_peer_queue_bytes = 10;
  EXPECT_THAT(bad(tiny_queue).message(), HasSubstr("cannot hold one frame"));

  auto taken = TestNode::start(loop, options_for(1));
  AsioTransportOptions same_port = options_for(2);
  same_port.listen_address = local(taken->port());
  const absl::Status busy = bad(same_port);
  EXPECT_EQ(busy.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(busy.message(), HasSubstr("bind"));
}

TEST(HostPortTest, ParsesNamesIPv4AndBracketedIPv6) {
  EXPECT_EQ(*parse_host_port("reef-1.internal:7000"), (HostPort{"reef-1.internal", 7000}));
  EXPECT_EQ(*parse_host_port("10.0.0.1:0"), (HostPort{"10.0.0.1", 0}));
  EXPECT_EQ(*parse_host_port("[::1]:65535"), (HostPort{"::1", 65535}));
  EXPECT_EQ(parse_host_port("[::1]:65535")->to_string(), "[::1]:65535");
  for (const char* bad :
       {"", "host", "host:", ":80", "host:65536", "host:8a", "::1:80", "[]:80", "h:123456"}) {
    EXPECT_FALSE(parse_host_port(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace reef::prod
