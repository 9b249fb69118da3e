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
// Round-trip probes: once connected, the link pings the peer right away and
// every probe_interval (transport/probe.fbs). A ping jumps the queue (it
// goes first in the next write) so that it measures the network and the
// peer, not our own backlog; at most one is unanswered at a time. The peer
// writes on this connection only to answer pings: the link reads its
// replies through a FrameReader bounded to probe size, verifies each one,
// and fails the connection on anything else. That pending read also notices
// at once when the peer closes the connection (restart, crash) instead of at
// the next failed write.
#pragma once

#include <array>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "prod/net/asio_transport_shared.h"
#include "prod/net/host_port.h"
#include "raft/core/types.h"
#include "transport/frame.h"
#include "transport/probe_codec.h"

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
  // Starts connecting if the link is idle (nothing to send yet), so that
  // probes flow (they carry this node's incarnation) before any message.
  void connect_if_idle();

  const HostPort& address() const { return address_; }
  // Why the last connection attempt failed or the last connection broke.
  const std::string& last_error() const { return last_error_; }

 private:
  enum class State { kIdle, kConnecting, kConnected, kBackingOff, kClosed };

  using DropReason = uint64_t AsioTransportStats::Drops::*;
  struct OutstandingProbe {
    uint64_t sequence = 0;
    std::chrono::steady_clock::time_point written;  // set when the write that carries it starts
  };

  void connect();
  void on_resolved(uint64_t generation, const boost::system::error_code& error,
                   const boost::asio::ip::tcp::resolver::results_type& endpoints);
  void on_connected(uint64_t generation, const boost::system::error_code& error);
  void read_replies();
  void on_replies_read(uint64_t generation, const boost::system::error_code& error, size_t bytes);
  // Handles each complete reply; false once the connection was failed (or
  // the transport stopped meanwhile).
  bool handle_replies(uint64_t generation);
  absl::Status check_reply(const transport::Probe& reply) const;
  void schedule_probe();
  void send_probe();
  void write_next();
  void on_written(uint64_t generation, const boost::system::error_code& error, size_t bytes);
  // An attempt failed or the connection broke: drop, report, back off.
  void fail(absl::string_view why);
  void schedule_reconnect();
  void report_unreachable();
  // Closes the socket and makes every handler still pending stale.
  void reset_connection();
  // Drops every queued frame, counting them as `reason`.
  void drop_queue(DropReason reason);
  // Counts `count` dropped frames as `reason`, in the transport's and this peer's stats.
  void count_drops(DropReason reason, uint64_t count);

  std::shared_ptr<AsioTransportShared> shared_;
  const raft::NodeId peer_;
  AsioTransportStats::Peer& peer_stats_;  // in shared_->stats.peers, which never erases
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

  boost::asio::steady_timer probe_timer_;  // next ping, while connected
  std::string probe_waiting_;              // encoded ping for the next write; empty if none
  std::string probe_writing_;              // the ping at the head of the batch being written
  std::optional<OutstandingProbe> probe_outstanding_;
  uint64_t next_probe_sequence_ = 1;
  transport::FrameReader reply_reader_{transport::kMaxProbeBytes};
  std::array<char, 512> reply_buffer_ = {};

  std::deque<std::string> queue_;       // waiting to be written
  std::vector<std::string> in_flight_;  // being written; their bytes stay put until done
  std::vector<boost::asio::const_buffer> buffers_;
  size_t queued_messages_ = 0;  // queue_ + in_flight_
  uint64_t queued_bytes_ = 0;   // queue_ + in_flight_
  bool writing_ = false;
};

}  // namespace reef::prod
