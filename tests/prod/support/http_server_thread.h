// HttpServerThread: a real prod::HttpServer on 127.0.0.1 (ephemeral port)
// running its own io_context on a background thread, for tests of HTTP
// clients (the `reefdb` client side). The handler runs on that thread.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <future>
#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "prod/http/http_server.h"

namespace reef::prod::testing {

class HttpServerThread {
 public:
  explicit HttpServerThread(HttpHandler handler, HttpServerOptions options = {}) {
    absl::StatusOr<std::unique_ptr<HttpServer>> server = HttpServer::create(loop_, options, std::move(handler));
    EXPECT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    thread_ = std::thread([this] { loop_.run(); });
  }
  ~HttpServerThread() { stop(); }
  HttpServerThread(const HttpServerThread&) = delete;
  HttpServerThread& operator=(const HttpServerThread&) = delete;

  // From the test's thread: stops the server and joins its thread.
  void stop() {
    if (!thread_.joinable()) return;
    boost::asio::post(loop_, [this] {
      server_->stop();
      work_.reset();
    });
    thread_.join();
  }
  // From the handler (on the server's thread): stop accepting and close
  // every connection, as a node dying under its clients would.
  void stop_from_handler() { server_->stop(); }

  std::string address() const { return absl::StrCat("127.0.0.1:", server_->listen_port()); }

  HttpServerStats stats() {
    std::promise<HttpServerStats> promise;
    boost::asio::post(loop_, [&] { promise.set_value(server_->stats()); });
    return promise.get_future().get();
  }

 private:
  boost::asio::io_context loop_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_ =
      boost::asio::make_work_guard(loop_);
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

}  // namespace reef::prod::testing
