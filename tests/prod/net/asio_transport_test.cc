// prod/net/asio_transport.h over real sockets on 127.0.0.1 with ephemeral ports:
// every message kind between three transports, reconnection to a peer that
// starts late or restarts, queue bounds, and refusal of garbage, foreign
// clusters and oversized frames without disturbing other peers; round-trip
// probes answered and measured, and malformed probes or replies refused.
//
// Everything runs on one io_context in the test thread. Waits are "run the
// loop until this holds", bounded by generous deadlines (kDeadline), never
// sleeps that assume how fast something happens.
#include "prod/net/asio_transport.h"

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

#include "prod/net/host_port.h"
#include "tests/transport/node_message_text.h"
#include "tests/transport/sample_messages.h"
#include "transport/frame.h"
#include "transport/message_codec.h"
#include "transport/probe_codec.h"

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

// Records what the transport reports besides messages.
struct RecordingObserver : AsioTransportObserver {
  std::map<NodeId, std::vector<std::chrono::nanoseconds>> round_trips;
  std::vector<NodeId> connected;
  std::vector<std::string> failures;
  std::vector<std::string> refusals;

  void on_peer_round_trip(NodeId peer, std::chrono::nanoseconds round_trip) override {
    round_trips[peer].push_back(round_trip);
  }
  void on_peer_connected(NodeId peer) override { connected.push_back(peer); }
  void on_peer_failed(NodeId peer, absl::string_view why) override {
    failures.push_back(absl::StrCat(peer.value(), ": ", why));
  }
  void on_inbound_refused(absl::string_view remote, absl::string_view why) override {
    refusals.push_back(absl::StrCat(remote, ": ", why));
  }
};

std::string probe_frame(uint64_t cluster, uint64_t from, uint64_t to, uint64_t sequence, bool reply) {
  return transport::encode_frame(
      transport::encode_probe(cluster, transport::Probe{NodeId(from), NodeId(to), sequence, reply}));
}

TEST(ProbeCodecTest, RoundTripsAndRefusesWhatIsNotAProbeOfThisCluster) {
  const transport::Probe ping{NodeId(1), NodeId(2), 77, false};
  const std::string bytes = transport::encode_probe(kCluster, ping);
  EXPECT_LE(bytes.size(), transport::kMaxProbeBytes);
  EXPECT_TRUE(transport::is_probe(bytes));
  EXPECT_EQ(*transport::decode_probe(bytes, kCluster), ping);
  const transport::Probe pong{NodeId(2), NodeId(1), 77, true};
  EXPECT_EQ(*transport::decode_probe(transport::encode_probe(kCluster, pong), kCluster), pong);
  const transport::Probe refusing{NodeId(2), NodeId(1), 78, true, 0x1234, /*refused=*/true};
  EXPECT_EQ(*transport::decode_probe(transport::encode_probe(kCluster, refusing), kCluster), refusing);

  EXPECT_EQ(transport::decode_probe(bytes, kCluster + 1).status().code(),
            absl::StatusCode::kFailedPrecondition);
  // Envelopes and probes are told apart by their identifier, both ways.
  const std::string envelope = transport::encode_message(kCluster, heartbeat(1, 2, 0));
  EXPECT_FALSE(transport::is_probe(envelope));
  EXPECT_THAT(transport::decode_probe(envelope, kCluster).status().message(), HasSubstr("not a probe"));
  EXPECT_FALSE(transport::decode_message(bytes, kCluster).ok());
  // Damaged, truncated, oversized: refused, never read out of bounds.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(transport::decode_probe(bytes.substr(0, cut), kCluster).ok()) << cut;
  }
  std::string oversized = bytes + std::string(transport::kMaxProbeBytes, '\0');
  EXPECT_THAT(transport::decode_probe(oversized, kCluster).status().message(), HasSubstr("too long"));
  std::string bad_root = bytes;
  bad_root[0] = static_cast<char>(0xff);  // root offset far outside the buffer
  EXPECT_THAT(transport::decode_probe(bad_root, kCluster).status().message(), HasSubstr("verification"));
  for (size_t i = 0; i < bytes.size(); ++i) {
    std::string flipped = bytes;
    flipped[i] = static_cast<char>(flipped[i] ^ 0x5a);
    (void)transport::decode_probe(flipped, kCluster);  // any answer, but no crash (ASan/UBSan builds)
  }
}

// A peer whose accept queue is full never completes the TCP handshake (the
// kernel drops the SYNs): the attempt must fail after connect_timeout, be
// counted and reported, and be retried, not hang the link forever.
TEST(AsioTransportTest, AConnectThatNeverCompletesTimesOutAndIsRetried) {
  asio::io_context loop;
  tcp::acceptor stuck(loop);
  stuck.open(tcp::v4());
  stuck.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  stuck.listen(0);  // never accepted: one connection fills the queue
  tcp::socket filler(loop);
  filler.connect(stuck.local_endpoint());

  AsioTransportOptions options = options_for(1, {{NodeId(2), local(stuck.local_endpoint().port())}});
  options.connect_timeout = 200ms;
  std::unique_ptr<TestNode> a = TestNode::start(loop, options);
  ASSERT_NE(a, nullptr);
  RecordingObserver observer;
  a->transport->set_observer(&observer);
  uint64_t round = 0;
  ASSERT_TRUE(run_until(
      loop, [&] { return a->stats().connect_failures >= 2; },
      [&] { a->transport->send(heartbeat(1, 2, ++round)); }))
      << "attempts " << a->stats().connect_attempts << ", failures " << a->stats().connect_failures;
  ASSERT_FALSE(observer.failures.empty());
  EXPECT_THAT(observer.failures.front(), HasSubstr("connect timed out after 200 ms"));
  EXPECT_GE(a->stats().connect_attempts, 2u) << "retried after the timeout";
  EXPECT_EQ(a->stats().connections_established, 0u);
  a->transport->set_observer(nullptr);
}

TEST(AsioTransportProbeTest, ConnectedPeersAreProbedAndTheRoundTripReported) {
  asio::io_context loop;
  AsioTransportOptions b_options = options_for(2);
  auto b = TestNode::start(loop, b_options);
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.probe_interval = 20ms;
  auto a = TestNode::start(loop, a_options);
  RecordingObserver observer;
  a->transport->set_observer(&observer);
  // Probing starts with the connection, which starts with the first message.
  EXPECT_EQ(a->stats().probes_sent, 0u);
  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return observer.round_trips[NodeId(2)].size() >= 3; }));
  for (std::chrono::nanoseconds rtt : observer.round_trips[NodeId(2)]) {
    EXPECT_GT(rtt.count(), 0);
    EXPECT_LT(rtt, kDeadline);
  }
  EXPECT_EQ(observer.connected, std::vector<NodeId>{NodeId(2)});
  EXPECT_TRUE(observer.failures.empty());
  const AsioTransportStats::Peer& peer = a->stats().peers.at(NodeId(2));
  EXPECT_GE(peer.probes_sent, 3u);
  EXPECT_GE(peer.probe_replies, 3u);
  EXPECT_EQ(a->stats().probe_replies, peer.probe_replies);
  EXPECT_GE(b->stats().probes_answered, 3u);
  // Probes are not messages: the node saw exactly the one heartbeat.
  EXPECT_EQ(b->received.size(), 1u);
  EXPECT_EQ(b->stats().frames_received, 1u);
  EXPECT_EQ(a->stats().frames_sent, 1u);
  EXPECT_EQ(peer.frames_sent, 1u);
  EXPECT_EQ(a->stats().frames_refused + a->stats().messages_refused, 0u);
  EXPECT_EQ(b->stats().frames_refused + b->stats().messages_refused, 0u);
}

// The wiped-directory check at the transport: the receiver's sender check
// sees every envelope's and ping's incarnation; a refused sender's messages
// never reach the node, and its pings are answered with a refusal that
// reaches the sender's refused handler.
TEST(AsioTransportProbeTest, ARefusedSenderIsDroppedAndToldSo) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  std::vector<std::pair<NodeId, uint64_t>> checked;
  bool refuse = false;
  b->transport->set_sender_check([&](NodeId from, uint64_t incarnation) {
    checked.emplace_back(from, incarnation);
    return !refuse;
  });
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.incarnation = 0xabc;
  a_options.probe_interval = 20ms;
  auto a = TestNode::start(loop, a_options);
  std::vector<NodeId> refused_by;
  a->transport->set_refused_handler([&](NodeId peer) { refused_by.push_back(peer); });

  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 1 && a->stats().probe_replies >= 2; }));
  EXPECT_TRUE(refused_by.empty());
  ASSERT_FALSE(checked.empty());
  EXPECT_EQ(checked.front(), std::make_pair(NodeId(1), uint64_t{0xabc}));

  refuse = true;
  a->transport->send(heartbeat(1, 2, 1));
  ASSERT_TRUE(run_until(loop, [&] { return !refused_by.empty() && b->stats().messages_from_refused_senders >= 2; }));
  EXPECT_EQ(refused_by.front(), NodeId(2));
  EXPECT_EQ(b->received.size(), 1u);  // the second heartbeat never reached the node
  EXPECT_EQ(b->stats().messages_refused, 0u);
}

TEST(AsioTransportProbeTest, ProbingCanBeTurnedOff) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  AsioTransportOptions a_options = options_for(1, {{NodeId(2), local(b->port())}});
  a_options.probe_interval = 0ms;
  auto a = TestNode::start(loop, a_options);
  for (uint64_t round = 0; round < 3; ++round) a->transport->send(heartbeat(1, 2, round));
  ASSERT_TRUE(run_until(loop, [&] { return b->received.size() == 3; }));
  loop.restart();
  loop.run_for(50ms);
  EXPECT_EQ(a->stats().probes_sent, 0u);
  EXPECT_EQ(b->stats().probes_answered, 0u);
}

TEST(AsioTransportProbeTest, APingIsAnsweredWithAPongEchoingItsSequence) {
  asio::io_context loop;
  auto b = TestNode::start(loop, options_for(2));
  tcp::socket client(loop);
  client.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), b->port()));
  asio::write(client, asio::buffer(probe_frame(kCluster, 5, 2, 4242, false)));
  transport::FrameReader reader(transport::kMaxProbeBytes);
  std::optional<std::string> pong;
  std::array<char, 512> buffer{};
  bool reading = false;
  ASSERT_TRUE(run_until(loop, [&] {
    if (!reading) {
      reading = true;
      client.async_read_some(asio::buffer(buffer), [&](const boost::system::error_code& error, size_t n) {
        reading = false;
        if (!error) {
          EXPECT_TRUE(reader.feed(absl::string_view(buffer.data(), n)).ok());
        }
      });
    }
    if (!pong) pong = reader.pop();
    return pong.has_value();
  }));
  EXPECT_EQ(*transport::decode_probe(*pong, kCluster), (transport::Probe{NodeId(2), NodeId(5), 4242, true}));
  EXPECT_EQ(b->stats().probes_answered, 1u);
  EXPECT_TRUE(b->received.empty());
  client.close();
  loop.restart();
  loop.run_for(10ms);  // the pending read completes with an error before `buffer` goes
}

TEST_F(RefusalTest, APingOfAnotherClusterClosesTheConnection) {
  expect_refused(probe_frame(kCluster + 1, 1, 2, 1, false));
  EXPECT_EQ(b_->stats().messages_refused, 1u);
}

TEST_F(RefusalTest, APingForAnotherNodeClosesTheConnection) {
  expect_refused(probe_frame(kCluster, 1, 3, 1, false));
  EXPECT_EQ(b_->stats().messages_refused, 1u);
}

TEST_F(RefusalTest, APongSentToTheReceivingSideClosesTheConnection) {
  expect_refused(probe_frame(kCluster, 1, 2, 1, true));
  EXPECT_EQ(b_->stats().messages_refused, 1u);
}

TEST_F(RefusalTest, AMalformedProbeClosesTheConnection) {
  // Carries the probe identifier, but the root offset points nowhere.
  std::string payload = transport::encode_probe(kCluster, transport::Probe{NodeId(1), NodeId(2), 1, false});
  payload[0] = static_cast<char>(0xf0);
  expect_refused(transport::encode_frame(payload));
  EXPECT_EQ(b_->stats().messages_refused, 1u);
}

TEST_F(RefusalTest, RefusalsAreReportedToTheObserver) {
  RecordingObserver observer;
  b_->transport->set_observer(&observer);
  expect_refused(probe_frame(kCluster + 1, 1, 2, 1, false));
  ASSERT_EQ(observer.refusals.size(), 1u);
  EXPECT_THAT(observer.refusals[0], HasSubstr("127.0.0.1:"));
  EXPECT_THAT(observer.refusals[0], HasSubstr("cluster"));
  b_->transport->set_observer(nullptr);
}

// A fake peer: accepts one connection, reads whatever comes, and answers
// the first ping with the bytes `answer` makes of it.
class FakePeer {
 public:
  using Answer = std::function<std::string(const transport::Probe& ping)>;
  FakePeer(asio::io_context& loop, Answer answer)
      : acceptor_(loop, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        socket_(loop),
        answer_(answer) {
    acceptor_.async_accept(socket_, [this](const boost::system::error_code& error) {
      if (!error) read();
    });
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  bool answered() const { return answered_; }

 private:
  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [this](const boost::system::error_code& error, size_t n) {
      if (error) return;
      EXPECT_TRUE(reader_.feed(absl::string_view(buffer_.data(), n)).ok());
      while (std::optional<std::string> payload = reader_.pop()) {
        if (!transport::is_probe(*payload) || answered_) continue;
        answered_ = true;
        reply_ = answer_(*transport::decode_probe(*payload, kCluster));
        asio::write(socket_, asio::buffer(reply_));
      }
      read();
    });
  }

  tcp::acceptor acceptor_;
  tcp::socket socket_;
  Answer answer_;
  transport::FrameReader reader_{1 << 20};
  std::array<char, 4096> buffer_{};
  std::string reply_;
  bool answered_ = false;
};

// The link refuses the peer's reply `answer`: the connection fails, the
// failure names the refusal (`why`), and no round trip is measured.
void expect_reply_refused(const FakePeer::Answer& answer, absl::string_view why) {
  asio::io_context loop;
  FakePeer peer(loop, answer);
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(peer.port())}}));
  RecordingObserver observer;
  a->transport->set_observer(&observer);
  a->transport->send(heartbeat(1, 2, 0));
  // The peer is reported unreachable after the connection is counted lost
  // (posted behind it): wait for both.
  ASSERT_TRUE(run_until(loop, [&] { return a->stats().connections_lost == 1 && !a->unreachable.empty(); }));
  EXPECT_TRUE(peer.answered());
  EXPECT_EQ(a->stats().probe_replies, 0u);
  EXPECT_TRUE(observer.round_trips.empty());
  ASSERT_FALSE(observer.failures.empty());
  EXPECT_THAT(observer.failures[0], HasSubstr("2: refused a"));
  EXPECT_THAT(observer.failures[0], HasSubstr(why));
  EXPECT_THAT(a->unreachable, ::testing::Contains(NodeId(2)));
  a->transport->set_observer(nullptr);
}

TEST(AsioTransportProbeTest, AFakePeerThatAnswersCorrectlyIsMeasured) {
  asio::io_context loop;
  FakePeer peer(loop, [](const transport::Probe& ping) {
    return probe_frame(kCluster, ping.to.value(), ping.from.value(), ping.sequence, true);
  });
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(peer.port())}}));
  RecordingObserver observer;
  a->transport->set_observer(&observer);
  a->transport->send(heartbeat(1, 2, 0));
  ASSERT_TRUE(run_until(loop, [&] { return !observer.round_trips.empty(); }));
  EXPECT_EQ(a->stats().probe_replies, 1u);
  EXPECT_EQ(a->stats().connections_lost, 0u);
  a->transport->set_observer(nullptr);
}

TEST(AsioTransportProbeTest, ARepliedGarbageFrameBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe&) { return std::string("HTTP/1.1 400 Bad Request\r\n\r\n"); }, "magic");
}

TEST(AsioTransportProbeTest, AReplyWithTheWrongSequenceBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe& ping) {
        return probe_frame(kCluster, ping.to.value(), ping.from.value(), ping.sequence + 1, true);
      },
      "not outstanding");
}

TEST(AsioTransportProbeTest, AReplyThatIsAPingBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe& ping) {
        return probe_frame(kCluster, ping.to.value(), ping.from.value(), ping.sequence, false);
      },
      "a ping where only pongs");
}

TEST(AsioTransportProbeTest, AReplyOfAnotherClusterBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe& ping) {
        return probe_frame(kCluster + 1, ping.to.value(), ping.from.value(), ping.sequence, true);
      },
      "cluster");
}

TEST(AsioTransportProbeTest, AMessageWrittenBackBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe&) {
        return transport::encode_frame(transport::encode_message(kCluster, heartbeat(2, 1, 0)));
      },
      "not a probe");
}

TEST(AsioTransportProbeTest, AnOversizedReplyFrameBreaksTheConnection) {
  expect_reply_refused(
      [](const transport::Probe&) {
        return transport::encode_frame_header(
            transport::FrameHeader{transport::kFrameFormatVersion, 100000, 0});
      },
      "exceeds the max frame size of 256 bytes");
}

TEST(AsioTransportProbeTest, ConnectionsAndFailuresAreReported) {
  asio::io_context loop;
  const uint16_t port = unused_port(loop);
  auto a = TestNode::start(loop, options_for(1, {{NodeId(2), local(port)}}));
  RecordingObserver observer;
  a->transport->set_observer(&observer);
  uint64_t round = 0;
  auto keep_sending = [&] { a->transport->send(heartbeat(1, 2, round++)); };
  ASSERT_TRUE(run_until(
      loop, [&] { return observer.failures.size() >= 2; }, keep_sending));
  EXPECT_THAT(observer.failures[0], HasSubstr("refused"));
  EXPECT_TRUE(observer.connected.empty());
  AsioTransportOptions b_options = options_for(2);
  b_options.listen_address = local(port);
  auto b = TestNode::start(loop, b_options);
  ASSERT_TRUE(run_until(
      loop, [&] { return !observer.connected.empty(); }, keep_sending));
  EXPECT_EQ(observer.connected.front(), NodeId(2));
  const AsioTransportStats::Peer& peer = a->stats().peers.at(NodeId(2));
  EXPECT_GE(peer.connect_failures, 2u);
  EXPECT_EQ(peer.reconnects, 1u);
  EXPECT_EQ(peer.dropped.connection_lost, a->stats().dropped.connection_lost);
  a->transport->set_observer(nullptr);
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
