// HttpClient: a small blocking HTTP/1.1 client (Boost.Beast) for the
// `reefdb` command line tools, which talk to one node at a time and wait for
// each answer before doing anything else.
//
// One keep-alive connection is reused across requests. A node closes idle
// connections after its read timeout, so a request that fails on a reused
// connection before any of the answer arrived is sent once more on a fresh
// connection; everything else is reported as it happened.
//
// Timeouts: connecting is bounded by `connect` (name resolution is left to
// the system resolver's own timeout); sending the request and reading the
// whole answer by `read`.
// Blocking Beast calls cannot time out, so every operation runs
// asynchronously on a private io_context that this thread drives.
//
// Errors (absl::Status; the message names the address):
//   UNAVAILABLE        cannot resolve / connect, or the connection broke
//   DEADLINE_EXCEEDED  connect or read timeout
//   INVALID_ARGUMENT   a malformed host:port
//   RESOURCE_EXHAUSTED the answer is larger than kMaxResponseBodyBytes
//   INTERNAL           a malformed HTTP answer
//
// Not thread-safe: one client per thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "prod/api/http_message.h"

namespace reef::prod {

struct HttpClientTimeouts {
  std::chrono::milliseconds connect{5'000};
  std::chrono::milliseconds read{60'000};
};

class HttpClient {
 public:
  // Answers above this are refused rather than held in memory.
  static constexpr size_t kMaxResponseBodyBytes = size_t{256} << 20;

  // `host_port` as "host:port" or "[v6]:port". Nothing is connected until
  // the first request.
  explicit HttpClient(std::string host_port, HttpClientTimeouts timeouts = {});
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends `method target` (origin-form target: "/db/query?level=weak") with
  // `body` (sent as JSON when not empty) and returns the answer, whatever
  // its status. Headers are copied into HttpResponse::headers, except
  // Content-Type, which goes to content_type.
  absl::StatusOr<http::HttpResponse> request(std::string_view method, std::string_view target,
                                             std::string_view body = {});

  // Drops the connection; the next request opens a new one.
  void close();

  const std::string& host_port() const { return host_port_; }

 private:
  struct Connection;

  absl::Status connect();
  absl::StatusOr<http::HttpResponse> exchange(std::string_view method, std::string_view target,
                                              std::string_view body, bool& nothing_received);

  const std::string host_port_;
  const HttpClientTimeouts timeouts_;
  std::unique_ptr<Connection> connection_;
};

// The value of header `name` (case-insensitive) in `response`, if present.
std::optional<std::string> header_value(const http::HttpResponse& response, std::string_view name);

// "http://host:port/path" -> "host:port" (a bare "host:port" is kept): where
// a redirect's Location or a "leader" field points.
std::string host_port_of_url(std::string_view url);

}  // namespace reef::prod
