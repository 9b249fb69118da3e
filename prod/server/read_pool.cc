#include "prod/server/read_pool.h"

#include <chrono>
#include <utility>

#include <boost/asio/post.hpp>

#include "absl/strings/str_cat.h"

namespace reef::prod {

ReadPool::ReadPool(raft::StateMachine& inner, OpenReader open_reader, boost::asio::io_context& loop,
                   ReadPoolOptions options)
    : ForwardingStateMachine(inner), open_reader_(std::move(open_reader)), loop_(loop), options_(options) {}

ReadPool::~ReadPool() {
  *alive_ = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    queue_.clear();
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ReadPool::start_query(std::string request, QueryDone done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() >= options_.max_queued) {
      // Answered outside the lock: `done` may submit again.
    } else {
      queue_.push_back(Read{std::move(request), std::move(done)});
      if (workers_.size() < options_.threads && running_ + queue_.size() > workers_.size()) {
        workers_.emplace_back([this] { work(); });
      }
      wake_.notify_one();
      return;
    }
  }
  done(absl::ResourceExhaustedError(
      absl::StrCat("too many reads waiting (", options_.max_queued, "); retry later")));
}

size_t ReadPool::reads_waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

size_t ReadPool::reads_running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return running_;
}

void ReadPool::work() {
  std::unique_ptr<statemachine::SqlReader> reader;
  while (true) {
    Read read;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      read = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    absl::StatusOr<std::string> response;
    if (reader == nullptr) {
      absl::StatusOr<std::unique_ptr<statemachine::SqlReader>> opened = open_reader_();
      if (opened.ok()) {
        reader = *std::move(opened);
      } else {
        response = absl::Status(opened.status().code(),
                                absl::StrCat("opening a reader connection: ", opened.status().message()));
      }
    }
    if (reader != nullptr) {
      response = reader->query(read.request,
                               std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.read_timeout_ms));
    }
    answer(std::move(read.done), std::move(response));
    std::lock_guard<std::mutex> lock(mu_);
    --running_;
  }
}

// On a worker: hands the answer to the loop, where `done` may run.
void ReadPool::answer(QueryDone done, absl::StatusOr<std::string> response) {
  boost::asio::post(loop_, [alive = std::weak_ptr<bool>(alive_), done = std::move(done),
                            response = std::move(response)]() mutable {
    if (alive.expired()) return;
    done(std::move(response));
  });
}

}  // namespace reef::prod
