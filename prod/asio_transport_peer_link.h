// The outbound half of AsioTransport for one peer (internal to
// prod/asio_transport*): a bounded queue of encoded frames and at most one
// TCP connection that writes them, in order.
//
// Life of a link:
//   idle --first frame--> connecting --ok--> connected --error/EOF--> backing off
//   connecting --refused/timeout--> backing off --timer, frames queued--> connecting
//   backing off --timer, nothing queued--> idle (connects lazily on the next frame)
//
// Connections are made lazily, on the first frame queued. When an attempt
// fails or an established connection breaks, every frame queued or being
// written is dropped (counted as connection_lost; delivery of the batch in
// flight is unknown, and Raft retransmits what matters), the node is told
// the peer is unreachable, and the next attempt waits out the backoff.
// Frames queued while backing off wait for that attempt. Dropping instead of
// keeping them avoids handing a returning peer a burst of stale messages.
//
// The peer never writes on this connection; a read is kept pending only to
// notice at once when the peer closes it (restart, crash) instead of at the
// next failed write.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prod/asio_transport_address.h"
#include "prod/asio_transport_shared.h"
#include "raft/types.h"

namespace reef::prod {

class PeerLink : public std::enable_shared_from_this<PeerLink> {
 public:
  PeerLink(std::shared_ptr<AsioTransportShared> shared, raft::NodeId peer, HostPort address);

  // Queues one encoded frame. When the queue is at its bound the frame is
  // dropped (counted as queue_full) and the node is told the peer is
  // unreachable (AsioTransport documents why).
  void enqueue(std::string frame);
  // Points the link at a new address: the current connection (if any) is
  // closed, frames in flight are dropped, queued frames go to the new address.
  void set_address(HostPort address);
  // Closes the link for good; queued frames are dropped as `closed`.
  void close();

  const HostPort& address() const { return address_; }
  // Why the last connection attempt failed or the last connection broke.
  const std::string& last_error() const { return last_error_; }

 private:
  enum class State { kIdle, kConnecting, kConnected, kBackingOff, kClosed };

  void connect();
  void on_resolved(uint64_t generation, const boost::system::error_code& error,
                   const boost::asio::ip::tcp::resolver::results_type& endpoints);
  void on_connected(uint64_t generation, const boost::system::error_code& error);
  void watch_for_close();
  void write_next();
  void on_written(uint64_t generation, const boost::system::error_code& error, size_t bytes);
  // An attempt failed or the connection broke: drop, report, back off.
  void fail(absl::string_view why);
  void schedule_reconnect();
  void report_unreachable();
  // Closes the socket and makes every handler still pending stale.
  void reset_connection();
  // Drops every queued frame, counting them in `counter`.
  void drop_queue(uint64_t& counter);

  std::shared_ptr<AsioTransportShared> shared_;
  const raft::NodeId peer_;
  HostPort address_;
  State state_ = State::kIdle;
  // Bumped whenever the connection is torn down; a handler carrying an older
  // value belongs to a connection that no longer exists and does nothing.
  uint64_t generation_ = 0;
  uint64_t failures_ = 0;        // consecutive, since the last established connection
  bool ever_attempted_ = false;  // a later established connection is a reconnect
  bool unreachable_report_posted_ = false;
  std::string last_error_;

  boost::asio::ip::tcp::resolver resolver_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer timer_;  // connect timeout while connecting, backoff while backing off
  char close_probe_[1] = {};

  std::deque<std::string> queue_;       // waiting to be written
  std::vector<std::string> in_flight_;  // being written; their bytes stay put until done
  std::vector<boost::asio::const_buffer> buffers_;
  size_t queued_messages_ = 0;  // queue_ + in_flight_
  uint64_t queued_bytes_ = 0;   // queue_ + in_flight_
  bool writing_ = false;
};

}  // namespace reef::prod
