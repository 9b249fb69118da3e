// The inbound half of AsioTransport (internal to prod/asio_transport*): the
// listening socket and the connections peers opened to it.
//
// Peers write messages on these connections; we write back only pongs.
// Bytes are cut into frames by transport::FrameReader and each payload is
// decoded for this node's cluster: a message goes to the node's on_message
// callback, on the loop; a ping (transport/probe.fbs) addressed to this node
// is answered with a pong on the same connection. The first frame that fails
// verification (magic, version, length, checksum) or whose message or probe
// does not decode (another cluster, malformed, a misaddressed probe) closes
// the connection and is counted; a well-behaved peer reconnects, a confused
// one keeps being refused, and nobody else is affected.
//
// Pongs are bounded without trusting the peer: one is written at a time, and
// while it is written only the newest ping waits for an answer (an honest
// prober never has more than one unanswered).
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prod/net/asio_transport_shared.h"
#include "transport/frame.h"
#include "transport/probe_codec.h"

namespace reef::prod {

class InboundConnection : public std::enable_shared_from_this<InboundConnection> {
 public:
  InboundConnection(std::shared_ptr<AsioTransportShared> shared, boost::asio::ip::tcp::socket socket);

  void start() { read_next(); }
  void close();
  bool closed() const { return closed_; }

 private:
  void read_next();
  void on_read(const boost::system::error_code& error, size_t bytes);
  // Decodes and delivers every completed frame; false if one was refused
  // (the connection is closed then) or the transport stopped meanwhile.
  bool deliver_ready_frames();
  // Answers a ping; false (after refusing the connection) if it is not one
  // that this node may answer.
  bool answer_ping(const std::string& payload);
  void write_pong(const transport::Probe& ping);
  void refuse(absl::string_view why);

  std::shared_ptr<AsioTransportShared> shared_;
  boost::asio::ip::tcp::socket socket_;
  std::string remote_;  // the peer's address, for logs
  transport::FrameReader reader_;
  std::vector<char> buffer_;
  std::string pong_writing_;  // empty when no pong is being written
  std::optional<transport::Probe> ping_waiting_;
  bool closed_ = false;
};

// Accepts connections and owns them (weakly: each lives as long as its
// pending reads) so that close() can shut them all.
class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens on `endpoint` (SO_REUSEADDR set, so a restarted node
  // can take its port back while old connections linger in TIME_WAIT).
  static absl::StatusOr<std::shared_ptr<Listener>> open(std::shared_ptr<AsioTransportShared> shared,
                                                        const boost::asio::ip::tcp::endpoint& endpoint);
  Listener(std::shared_ptr<AsioTransportShared> shared, boost::asio::ip::tcp::acceptor acceptor);

  void start() { accept_next(); }
  void close();
  const boost::asio::ip::tcp::endpoint& local_endpoint() const { return local_endpoint_; }

 private:
  void accept_next();
  void on_accepted(const boost::system::error_code& error, boost::asio::ip::tcp::socket socket);
  size_t open_connections();

  std::shared_ptr<AsioTransportShared> shared_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::ip::tcp::endpoint local_endpoint_;
  boost::asio::steady_timer retry_timer_;  // after an accept error such as EMFILE
  std::vector<std::weak_ptr<InboundConnection>> connections_;
  bool closed_ = false;
};

}  // namespace reef::prod
