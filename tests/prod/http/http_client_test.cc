// prod/http/http_client.h against a real HttpServer on 127.0.0.1 (ephemeral
// port) running on a background thread: round trips, connection reuse,
// reconnecting after the server closed an idle connection, and the errors
// (refused, timeout, bad address).
#include "prod/http/http_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prod/http/http_server.h"
#include "tests/prod/support/http_server_thread.h"

namespace reef::prod {
namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;

using ServerThread = testing::HttpServerThread;

// Echoes method, target and body; answers 201 with a Location header.
void echo(http::HttpRequest request, std::function<void(http::HttpResponse)> respond) {
  http::HttpResponse response;
  response.status = 201;
  response.body = absl::StrCat(request.method, " ", request.target, " ", request.body);
  response.headers.emplace_back("Location", "http://elsewhere:1/x");
  respond(std::move(response));
}

TEST(HttpClientTest, RoundTripCarriesMethodTargetBodyStatusAndHeaders) {
  ServerThread server(echo);
  HttpClient client(server.address());
  absl::StatusOr<http::HttpResponse> response = client.request("POST", "/db/execute?x=1", R"(["SELECT 1"])");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 201);
  EXPECT_EQ(response->body, R"(POST /db/execute?x=1 ["SELECT 1"])");
  EXPECT_EQ(response->content_type, http::kJsonContentType);
  EXPECT_THAT(response->headers, ::testing::Contains(std::pair<std::string, std::string>("Location",
                                                                                         "http://elsewhere:1/x")));
  response = client.request("GET", "/status");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "GET /status ");
}

TEST(HttpClientTest, ReusesOneKeepAliveConnection) {
  ServerThread server(echo);
  HttpClient client(server.address());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client.request("GET", "/x").ok());
  const HttpServerStats stats = server.stats();
  EXPECT_EQ(stats.connections_accepted, 1u);
  EXPECT_EQ(stats.requests, 5u);
}

TEST(HttpClientTest, ReconnectsWhenTheServerClosedTheIdleConnection) {
  HttpServerOptions options;
  options.read_timeout = 100ms;  // idle keep-alive connections close after this
  ServerThread server(echo, options);
  HttpClient client(server.address());
  ASSERT_TRUE(client.request("GET", "/one").ok());
  std::this_thread::sleep_for(400ms);  // long past the idle timeout: the server has closed it
  absl::StatusOr<http::HttpResponse> response = client.request("POST", "/two", "[]");
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->body, "POST /two []");
  EXPECT_EQ(server.stats().connections_accepted, 2u);
}

TEST(HttpClientTest, ConnectionRefusedNamesTheAddress) {
  std::string address;
  {
    ServerThread server(echo);
    address = server.address();
  }  // stopped: nothing listens there any more
  HttpClient client(address);
  absl::StatusOr<http::HttpResponse> response = client.request("GET", "/status");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(response.status().message(), absl::StrCat("cannot connect to ", address, ": Connection refused"));
}

TEST(HttpClientTest, ReadTimeoutIsDeadlineExceeded) {
  std::mutex mutex;
  std::vector<std::function<void(http::HttpResponse)>> held;  // never answered while the client waits
  ServerThread server([&](http::HttpRequest, std::function<void(http::HttpResponse)> respond) {
    std::lock_guard lock(mutex);
    held.push_back(std::move(respond));
  });
  HttpClient client(server.address(), HttpClientTimeouts{.connect = 2s, .read = 200ms});
  const auto started = std::chrono::steady_clock::now();
  absl::StatusOr<http::HttpResponse> response = client.request("GET", "/slow");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kDeadlineExceeded);
  EXPECT_THAT(response.status().message(), HasSubstr("no answer from " + server.address()));
  EXPECT_LT(std::chrono::steady_clock::now() - started, 10s);
  server.stop();
}

TEST(HttpClientTest, MalformedAddressIsInvalidArgument) {
  HttpClient client("no-port-here");
  absl::StatusOr<http::HttpResponse> response = client.request("GET", "/status");
  ASSERT_FALSE(response.ok());
  EXPECT_EQ(response.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(response.status().message(), HasSubstr("no-port-here"));
}

}  // namespace
}  // namespace reef::prod
