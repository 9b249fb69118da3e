#include "prod/net/asio_transport_peer_link.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"
#include "transport/frame.h"
#include "transport/probe_codec.h"

namespace reef::prod {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

PeerLink::PeerLink(std::shared_ptr<AsioTransportShared> shared, raft::NodeId peer, HostPort address)
    : shared_(std::move(shared)),
      peer_(peer),
      peer_stats_(shared_->stats.peers[peer]),
      address_(std::move(address)),
      resolver_(shared_->loop),
      socket_(shared_->loop),
      timer_(shared_->loop),
      probe_timer_(shared_->loop) {}

void PeerLink::enqueue(std::string frame) {
  if (state_ == State::kClosed) {
    count_drops(&AsioTransportStats::Drops::closed, 1);
    return;
  }
  const AsioTransportOptions& options = shared_->options;
  if (queued_messages_ >= options.max_peer_queue_messages ||
      queued_bytes_ + frame.size() > options.max_peer_queue_bytes) {
    count_drops(&AsioTransportStats::Drops::queue_full, 1);
    report_unreachable();
    return;
  }
  queued_bytes_ += frame.size();
  ++queued_messages_;
  queue_.push_back(std::move(frame));
  if (state_ == State::kIdle) {
    connect();
  } else if (state_ == State::kConnected) {
    write_next();
  }
}

void PeerLink::connect_if_idle() {
  if (state_ == State::kIdle) connect();
}

void PeerLink::set_address(HostPort address) {
  if (state_ == State::kClosed || address == address_) return;
  address_ = std::move(address);
  reset_connection();
  failures_ = 0;
  state_ = State::kIdle;
  if (!queue_.empty()) connect();
}

void PeerLink::close() {
  if (state_ == State::kClosed) return;
  reset_connection();
  drop_queue(&AsioTransportStats::Drops::closed);
  state_ = State::kClosed;
}

void PeerLink::reset_connection() {
  ++generation_;
  error_code ignored;
  resolver_.cancel();
  timer_.cancel();
  probe_timer_.cancel();
  socket_.close(ignored);
  // The batch in flight may or may not have arrived; it is not sent again.
  queued_messages_ -= in_flight_.size();
  for (const std::string& frame : in_flight_) queued_bytes_ -= frame.size();
  count_drops(&AsioTransportStats::Drops::connection_lost, in_flight_.size());
  in_flight_.clear();
  buffers_.clear();
  writing_ = false;
  // A ping belongs to its connection: the next one starts afresh.
  probe_waiting_.clear();
  probe_writing_.clear();
  probe_outstanding_.reset();
  reply_reader_ = transport::FrameReader(transport::kMaxProbeBytes);
}

void PeerLink::count_drops(DropReason reason, uint64_t count) {
  shared_->stats.dropped.*reason += count;
  peer_stats_.dropped.*reason += count;
}

void PeerLink::drop_queue(DropReason reason) {
  count_drops(reason, queue_.size());
  queued_messages_ -= queue_.size();
  for (const std::string& frame : queue_) queued_bytes_ -= frame.size();
  queue_.clear();
  REEF_ASSERT(queued_messages_ == in_flight_.size(), "peer ", peer_.value(), ": ", queued_messages_,
              " queued messages counted, ", in_flight_.size(), " in flight");
}

void PeerLink::connect() {
  REEF_ASSERT(state_ == State::kIdle || state_ == State::kBackingOff, "peer ", peer_.value(),
              ": connect in state ", static_cast<int>(state_));
  state_ = State::kConnecting;
  ++shared_->stats.connect_attempts;
  ++peer_stats_.connect_attempts;
  const uint64_t generation = generation_;
  timer_.expires_after(shared_->options.connect_timeout);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& error) {
    // A timer cancelled just after it expired still runs with success, so
    // the state is checked too.
    if (error || self->shared_->stopped || generation != self->generation_) return;
    if (self->state_ != State::kConnecting) return;
    self->fail(
        absl::StrCat("connect timed out after ", self->shared_->options.connect_timeout.count(), " ms"));
  });
  resolver_.async_resolve(address_.host, absl::StrCat(address_.port),
                          [self = shared_from_this(), generation](
                              const error_code& error, const tcp::resolver::results_type& endpoints) {
                            self->on_resolved(generation, error, endpoints);
                          });
}

void PeerLink::on_resolved(uint64_t generation, const error_code& error,
                           const tcp::resolver::results_type& endpoints) {
  if (shared_->stopped || generation != generation_) return;
  if (error) {
    fail(absl::StrCat("resolving ", address_.host, ": ", error.message()));
    return;
  }
  asio::async_connect(
      socket_, endpoints,
      [self = shared_from_this(), generation](const error_code& connect_error, const tcp::endpoint&) {
        self->on_connected(generation, connect_error);
      });
}

void PeerLink::on_connected(uint64_t generation, const error_code& error) {
  if (shared_->stopped || generation != generation_) return;
  if (error) {
    fail(absl::StrCat("connecting to ", address_.to_string(), ": ", error.message()));
    return;
  }
  timer_.cancel();
  error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);  // Raft messages are latency-bound
  state_ = State::kConnected;
  ++shared_->stats.connections_established;
  if (ever_attempted_) {
    ++shared_->stats.reconnects;
    ++peer_stats_.reconnects;
  }
  ever_attempted_ = true;
  failures_ = 0;
  read_replies();
  if (shared_->options.probe_interval.count() > 0) {
    send_probe();
    schedule_probe();
  }
  write_next();
  if (shared_->observer != nullptr) shared_->observer->on_peer_connected(peer_);
}

void PeerLink::read_replies() {
  socket_.async_read_some(asio::buffer(reply_buffer_), [self = shared_from_this(), generation = generation_](
                                                           const error_code& error, size_t bytes) {
    self->on_replies_read(generation, error, bytes);
  });
}

void PeerLink::on_replies_read(uint64_t generation, const error_code& error, size_t bytes) {
  if (shared_->stopped || generation != generation_) return;
  if (error) {
    fail(absl::StrCat("connection to ", address_.to_string(), ": ", error.message()));
    return;
  }
  const absl::Status fed = reply_reader_.feed(absl::string_view(reply_buffer_.data(), bytes));
  // Replies completed before a bad frame are sound and still handled.
  if (!handle_replies(generation)) return;
  if (!fed.ok()) {
    ++shared_->stats.frames_refused;
    fail(absl::StrCat("refused a frame from ", address_.to_string(), ": ", fed.message()));
    return;
  }
  read_replies();
}

bool PeerLink::handle_replies(uint64_t generation) {
  while (std::optional<std::string> payload = reply_reader_.pop()) {
    absl::StatusOr<transport::Probe> reply = transport::decode_probe(*payload, shared_->options.cluster_id);
    absl::Status valid = reply.ok() ? check_reply(*reply) : reply.status();
    if (!valid.ok()) {
      ++shared_->stats.messages_refused;
      fail(absl::StrCat("refused a reply from ", address_.to_string(), ": ", valid.message()));
      return false;
    }
    // The answerer's incarnation is checked as a sender's is, so that a node
    // learns its peers' incarnations on its own connections too (a
    // follower may never receive a message from another follower). Only
    // the bookkeeping matters here: pongs carry nothing to drop.
    (void)shared_->admits(reply->from, reply->incarnation);
    if (shared_->stopped || generation != generation_) return false;
    const auto round_trip = std::chrono::steady_clock::now() - probe_outstanding_->written;
    probe_outstanding_.reset();
    ++shared_->stats.probe_replies;
    ++peer_stats_.probe_replies;
    if (shared_->observer != nullptr) {
      shared_->observer->on_peer_round_trip(peer_,
                                            std::chrono::duration_cast<std::chrono::nanoseconds>(round_trip));
      // The observer may have stopped the transport or closed this link.
      if (shared_->stopped || generation != generation_) return false;
    }
    if (reply->refused && shared_->on_refused_by_peer) {
      shared_->on_refused_by_peer(peer_);
      if (shared_->stopped || generation != generation_) return false;
    }
  }
  return true;
}

// A sound reply answers the ping outstanding on this connection: the peer
// writes nothing else, and TCP keeps order, so anything else is a broken
// or confused peer.
absl::Status PeerLink::check_reply(const transport::Probe& reply) const {
  if (!reply.reply) return absl::InvalidArgumentError("a ping where only pongs may come");
  if (reply.from != peer_ || reply.to != shared_->options.self) {
    return absl::InvalidArgumentError(absl::StrCat("a pong from ", reply.from.value(), " to ",
                                                   reply.to.value(), " on the connection from ",
                                                   shared_->options.self.value(), " to ", peer_.value()));
  }
  // (The pong may overtake the completion of the write that carried the
  // ping, when the rest of that batch is large: only the sequence counts.)
  if (!probe_outstanding_ || !probe_waiting_.empty() || reply.sequence != probe_outstanding_->sequence) {
    return absl::InvalidArgumentError(
        absl::StrCat("a pong for ping ", reply.sequence, ", which is not outstanding"));
  }
  return absl::OkStatus();
}

void PeerLink::schedule_probe() {
  probe_timer_.expires_after(shared_->options.probe_interval);
  probe_timer_.async_wait([self = shared_from_this(), generation = generation_](const error_code& error) {
    if (error || self->shared_->stopped || generation != self->generation_) return;
    if (self->state_ != State::kConnected) return;
    self->send_probe();
    self->schedule_probe();
  });
}

void PeerLink::send_probe() {
  if (probe_outstanding_) return;  // still unanswered: the round trip is that long
  const uint64_t sequence = next_probe_sequence_++;
  probe_waiting_ = transport::encode_frame(
      transport::encode_probe(shared_->options.cluster_id,
                              transport::Probe{shared_->options.self, peer_, sequence, /*reply=*/false,
                                               shared_->options.incarnation}));
  probe_outstanding_ = OutstandingProbe{sequence, {}};
  write_next();
}

void PeerLink::write_next() {
  if (state_ != State::kConnected || writing_ || (queue_.empty() && probe_waiting_.empty())) return;
  buffers_.clear();
  if (!probe_waiting_.empty()) {
    probe_writing_ = std::move(probe_waiting_);
    probe_waiting_.clear();
    buffers_.push_back(asio::buffer(probe_writing_));
    probe_outstanding_->written = std::chrono::steady_clock::now();
  }
  uint64_t batch_bytes = 0;
  while (!queue_.empty() && (in_flight_.empty() ||
                             batch_bytes + queue_.front().size() <= shared_->options.max_write_batch_bytes)) {
    batch_bytes += queue_.front().size();
    in_flight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  for (const std::string& frame : in_flight_) buffers_.push_back(asio::buffer(frame));
  writing_ = true;
  asio::async_write(
      socket_, buffers_,
      [self = shared_from_this(), generation = generation_](const error_code& error, size_t bytes) {
        self->on_written(generation, error, bytes);
      });
}

void PeerLink::on_written(uint64_t generation, const error_code& error, size_t bytes) {
  if (shared_->stopped || generation != generation_) return;
  if (error) {
    fail(absl::StrCat("writing to ", address_.to_string(), ": ", error.message()));
    return;
  }
  const size_t probe_bytes = probe_writing_.size();
  REEF_ASSERT(
      bytes == std::accumulate(in_flight_.begin(), in_flight_.end(), probe_bytes,
                               [](size_t sum, const std::string& frame) { return sum + frame.size(); }),
      "async_write reported ", bytes, " bytes for a partial batch");
  if (probe_bytes > 0) {
    ++shared_->stats.probes_sent;
    ++peer_stats_.probes_sent;
    probe_writing_.clear();
  }
  shared_->stats.frames_sent += in_flight_.size();
  peer_stats_.frames_sent += in_flight_.size();
  shared_->stats.bytes_sent += bytes;
  peer_stats_.bytes_sent += bytes;
  queued_messages_ -= in_flight_.size();
  queued_bytes_ -= bytes - probe_bytes;
  in_flight_.clear();
  buffers_.clear();
  writing_ = false;
  write_next();
}

void PeerLink::fail(absl::string_view why) {
  last_error_ = std::string(why);
  if (state_ == State::kConnected) {
    ++shared_->stats.connections_lost;
    ++peer_stats_.connections_lost;
  } else {
    ++shared_->stats.connect_failures;
    ++peer_stats_.connect_failures;
  }
  ever_attempted_ = true;
  reset_connection();
  drop_queue(&AsioTransportStats::Drops::connection_lost);
  ++failures_;
  report_unreachable();
  schedule_reconnect();
  // Last: the observer may call back into the transport.
  if (shared_->observer != nullptr) shared_->observer->on_peer_failed(peer_, why);
}

void PeerLink::schedule_reconnect() {
  const AsioTransportOptions& options = shared_->options;
  REEF_ASSERT(failures_ >= 1, "peer ", peer_.value(), ": backing off without a failure");
  // initial * 2^(failures - 1), capped at max; doubled step by step so that
  // no option value can overflow it.
  const uint64_t max_ms = static_cast<uint64_t>(options.reconnect_backoff_max.count());
  uint64_t base_ms = static_cast<uint64_t>(options.reconnect_backoff_initial.count());
  for (uint64_t i = 1; i < failures_ && base_ms < max_ms; ++i) base_ms = std::min(base_ms * 2, max_ms);
  const uint64_t percent =
      shared_->jitter.between(100 - options.reconnect_jitter_percent, 100 + options.reconnect_jitter_percent);
  state_ = State::kBackingOff;
  timer_.expires_after(std::chrono::milliseconds(base_ms * percent / 100));
  timer_.async_wait([self = shared_from_this(), generation = generation_](const error_code& error) {
    if (error || self->shared_->stopped || generation != self->generation_) return;
    if (self->state_ != State::kBackingOff) return;
    if (self->queue_.empty()) {
      self->state_ = State::kIdle;  // nothing to say: connect when there is
    } else {
      self->connect();
    }
  });
}

// Posted, never called from here: enqueue() runs inside the node's own
// send(), and the node must not be re-entered from its own call. Reports
// coalesce until the posted one runs.
void PeerLink::report_unreachable() {
  if (unreachable_report_posted_) return;
  unreachable_report_posted_ = true;
  asio::post(shared_->loop, [self = shared_from_this()] {
    self->unreachable_report_posted_ = false;
    if (self->shared_->stopped || self->state_ == State::kClosed || !self->shared_->on_peer_unreachable)
      return;
    self->shared_->on_peer_unreachable(self->peer_);
  });
}

}  // namespace reef::prod
