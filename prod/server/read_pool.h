// ReadPool: the node's reads on worker threads, so that no query runs on
// the node's event loop (DESIGN.md §4) and a slow one delays neither
// heartbeats nor writes. A state-machine decorator: start_query() queues
// the read; a worker runs it on its own reader connection
// (statemachine/sql_reader.h), which sees at least everything committed
// when the read was queued, and posts the answer back to the loop. Every
// other call goes to the wrapped machine unchanged.
//
// Bounds: `threads` workers, each with one reader connection (its page
// cache is DatabaseOptions::reader_cache_kib); at most `max_queued` reads
// wait, and a read past that is answered RESOURCE_EXHAUSTED at once. Each
// read is interrupted once it has run `read_timeout_ms` (from when a worker
// takes it) and answers a resource-limit error naming the read timeout.
//
// Shutdown: the destructor drops the reads still queued, lets the running
// ones finish, joins the workers; answers posted after that are dropped
// (they would call into a node that is going away).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "absl/status/statusor.h"
#include "raft/ports/forwarding_state_machine.h"
#include "statemachine/sql_reader.h"

namespace reef::prod {

struct ReadPoolOptions {
  uint32_t threads = 4;
  uint32_t max_queued = 1024;
  uint64_t read_timeout_ms = 10'000;
};

class ReadPool final : public raft::ForwardingStateMachine {
 public:
  // Opens a reader connection; called on a worker thread.
  using OpenReader = std::function<absl::StatusOr<std::unique_ptr<statemachine::SqlReader>>()>;

  // `inner` must outlive this; answers run on `loop`.
  ReadPool(raft::StateMachine& inner, OpenReader open_reader, boost::asio::io_context& loop, ReadPoolOptions options);
  ~ReadPool() override;
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;

  void start_query(std::string request, QueryDone done) override;

  // Reads waiting for a thread, and running on one, now (tests, metrics).
  size_t reads_waiting() const;
  size_t reads_running() const;

 private:
  struct Read {
    std::string request;
    QueryDone done;
  };
  void work();
  void answer(QueryDone done, absl::StatusOr<std::string> response);

  OpenReader open_reader_;
  boost::asio::io_context& loop_;
  const ReadPoolOptions options_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // read on the loop only

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Read> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> workers_;  // started on the first read
};

}  // namespace reef::prod
