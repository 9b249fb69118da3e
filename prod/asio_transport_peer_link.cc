#include "prod/asio_transport_peer_link.h"

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <numeric>
#include <utility>

#include "absl/strings/str_cat.h"
#include "raft/assert.h"

namespace reef::prod {

namespace asio = boost::asio;
using boost::system::error_code;
using tcp = asio::ip::tcp;

PeerLink::PeerLink(std::shared_ptr<AsioTransportShared> shared, raft::NodeId peer, HostPort address)
    : shared_(std::move(shared)),
      peer_(peer),
      address_(std::move(address)),
      resolver_(shared_->loop),
      socket_(shared_->loop),
      timer_(shared_->loop) {}

void PeerLink::enqueue(std::string frame) {
  AsioTransportStats& stats = shared_->stats;
  if (state_ == State::kClosed) {
    ++stats.dropped.closed;
    return;
  }
  const AsioTransportOptions& options = shared_->options;
  if (queued_messages_ >= options.max_peer_queue_messages ||
      queued_bytes_ + frame.size() > options.max_peer_queue_bytes) {
    ++stats.dropped.queue_full;
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
  drop_queue(shared_->stats.dropped.closed);
  state_ = State::kClosed;
}

void PeerLink::reset_connection() {
  ++generation_;
  error_code ignored;
  resolver_.cancel();
  timer_.cancel();
  socket_.close(ignored);
  // The batch in flight may or may not have arrived; it is not sent again.
  queued_messages_ -= in_flight_.size();
  for (const std::string& frame : in_flight_) queued_bytes_ -= frame.size();
  shared_->stats.dropped.connection_lost += in_flight_.size();
  in_flight_.clear();
  buffers_.clear();
  writing_ = false;
}

void PeerLink::drop_queue(uint64_t& counter) {
  counter += queue_.size();
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
  if (ever_attempted_) ++shared_->stats.reconnects;
  ever_attempted_ = true;
  failures_ = 0;
  watch_for_close();
  write_next();
}

void PeerLink::watch_for_close() {
  socket_.async_read_some(asio::buffer(close_probe_), [self = shared_from_this(), generation = generation_](
                                                          const error_code& error, size_t) {
    if (self->shared_->stopped || generation != self->generation_) return;
    self->fail(error ? absl::StrCat("connection to ", self->address_.to_string(), ": ", error.message())
                     : std::string("the peer wrote on a send-only connection"));
  });
}

void PeerLink::write_next() {
  if (state_ != State::kConnected || writing_ || queue_.empty()) return;
  uint64_t batch_bytes = 0;
  while (!queue_.empty() && (in_flight_.empty() ||
                             batch_bytes + queue_.front().size() <= shared_->options.max_write_batch_bytes)) {
    batch_bytes += queue_.front().size();
    in_flight_.push_back(std::move(queue_.front()));
    queue_.pop_front();
  }
  buffers_.clear();
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
  REEF_ASSERT(
      bytes == std::accumulate(in_flight_.begin(), in_flight_.end(), size_t{0},
                               [](size_t sum, const std::string& frame) { return sum + frame.size(); }),
      "async_write reported ", bytes, " bytes for a partial batch");
  shared_->stats.frames_sent += in_flight_.size();
  shared_->stats.bytes_sent += bytes;
  queued_messages_ -= in_flight_.size();
  queued_bytes_ -= bytes;
  in_flight_.clear();
  buffers_.clear();
  writing_ = false;
  write_next();
}

void PeerLink::fail(absl::string_view why) {
  last_error_ = std::string(why);
  if (state_ == State::kConnected) {
    ++shared_->stats.connections_lost;
  } else {
    ++shared_->stats.connect_failures;
  }
  ever_attempted_ = true;
  reset_connection();
  drop_queue(shared_->stats.dropped.connection_lost);
  ++failures_;
  report_unreachable();
  schedule_reconnect();
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
