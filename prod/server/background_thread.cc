#include "prod/server/background_thread.h"

#include <boost/asio/post.hpp>

namespace reef::prod {

BackgroundThread::BackgroundThread(boost::asio::io_context& loop) : loop_(loop), thread_([this] { loop_jobs(); }) {}

BackgroundThread::~BackgroundThread() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    jobs_.clear();
  }
  wake_.notify_one();
  thread_.join();
}

void BackgroundThread::run(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> then) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    jobs_.push_back(Job{std::move(work), std::move(then)});
  }
  wake_.notify_one();
}

void BackgroundThread::loop_jobs() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    job.work();
    boost::asio::post(loop_, [alive = std::weak_ptr<bool>(alive_), then = std::move(job.then)]() mutable {
      if (!alive.expired()) then();
    });
  }
}

}  // namespace reef::prod
