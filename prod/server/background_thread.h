// BackgroundThread: the production raft::Background, one thread that runs
// the node's work that grows with the data (writing a policy snapshot)
// while the node's loop goes on; each `then` is posted back to the loop.
// The driver has at most one such job in flight, so the queue stays short.
//
// Shutdown: the destructor drops queued work, lets the running work finish
// and joins the thread; `then`s posted after that are dropped (the node they
// would call is going away). Destroy it before the node, the log and the
// state machine the work uses.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>

#include "raft/ports/background.h"

namespace reef::prod {

class BackgroundThread final : public raft::Background {
 public:
  explicit BackgroundThread(boost::asio::io_context& loop);
  ~BackgroundThread() override;
  BackgroundThread(const BackgroundThread&) = delete;
  BackgroundThread& operator=(const BackgroundThread&) = delete;

  void run(absl::AnyInvocable<void()> work, absl::AnyInvocable<void()> then) override;

 private:
  struct Job {
    absl::AnyInvocable<void()> work;
    absl::AnyInvocable<void()> then;
  };
  void loop_jobs();

  boost::asio::io_context& loop_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // expires with this object
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Job> jobs_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once everything it reads exists
};

}  // namespace reef::prod
