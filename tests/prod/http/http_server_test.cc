// prod/http/http_server.h over real sockets on 127.0.0.1 with ephemeral ports:
// round trips, keep-alive and pipelining, answers given later or never, the
// server's own refusals (400, 413, 431), connection bounds, timeouts and
// stop().
//
// Everything runs on one io_context in the test thread: the clients connect
// and write with blocking calls (the kernel completes the handshake and
// buffers small writes without the server's help) and read asynchronously.
// Waits are "run the loop until this holds", bounded by generous deadlines
// (kDeadline), never sleeps that assume how fast something happens.
#include "prod/http/http_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "prod/api/http_message.h"

namespace reef::prod {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace beast_http = boost::beast::http;
using boost::system::error_code;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using Response = beast_http::response<beast_http::string_body>;
using Respond = std::function<void(http::HttpResponse)>;

constexpr std::chrono::milliseconds kDeadline = 20s;

// Runs the loop until `done` holds; false after `timeout`.
bool run_until(asio::io_context& loop, const std::function<bool()>& done,
               std::chrono::milliseconds timeout = kDeadline) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    loop.restart();
    loop.run_for(5ms);
  }
  return true;
}

// Runs the loop for `duration`, for "nothing (more) happens" checks.
void run_for(asio::io_context& loop, std::chrono::milliseconds duration) {
  const auto deadline = std::chrono::steady_clock::now() + duration;
  run_until(
      loop, [&] { return std::chrono::steady_clock::now() > deadline; }, duration + 1s);
}

std::string get(absl::string_view target) {
  return absl::StrCat("GET ", target, " HTTP/1.1\r\nHost: t\r\n\r\n");
}

std::string post(absl::string_view target, absl::string_view body) {
  return absl::StrCat("POST ", target, " HTTP/1.1\r\nHost: t\r\nContent-Length: ", body.size(), "\r\n\r\n",
                      body);
}

// A client on a raw socket: it writes whatever bytes a test gives it and
// parses what comes back with Beast.
class TestClient {
 public:
  TestClient(asio::io_context& loop, uint16_t port) : loop_(loop), state_(std::make_shared<State>(loop)) {
    error_code error;
    state_->socket.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
    EXPECT_FALSE(error) << error.message();
    if (error) {
      state_->closed = true;
      return;
    }
    read_more(state_);
  }
  ~TestClient() { close(); }

  void send(std::string_view bytes) {
    error_code error;
    asio::write(state_->socket, asio::buffer(bytes.data(), bytes.size()), error);
    EXPECT_FALSE(error) << error.message();
  }

  // The next complete response (interim 1xx ones skipped unless asked
  // for); nullopt when the connection closed or the deadline passed first.
  std::optional<Response> next_response(bool head_request = false, bool keep_interim = false) {
    std::optional<Response> response;
    run_until(loop_, [&] {
      response = take_response(head_request, keep_interim);
      return response.has_value() || state_->closed;
    });
    if (!response) response = take_response(head_request, keep_interim);
    return response;
  }

  // Runs until the server closed the connection (EOF or reset).
  bool wait_closed() {
    return run_until(loop_, [&] { return state_->closed; });
  }
  bool closed() const { return state_->closed; }
  const std::string& unparsed() const { return state_->received; }

  void close() {
    error_code ignored;
    state_->socket.close(ignored);
  }

 private:
  struct State {
    explicit State(asio::io_context& loop) : socket(loop) {}
    tcp::socket socket;
    std::string received;
    std::array<char, 4096> buffer{};
    bool closed = false;
  };

  // The handler holds the state, not the client: it may run after the
  // client is gone.
  static void read_more(const std::shared_ptr<State>& state) {
    state->socket.async_read_some(asio::buffer(state->buffer),
                                  [state](const error_code& error, size_t bytes) {
                                    if (error) {
                                      state->closed = true;
                                      return;
                                    }
                                    state->received.append(state->buffer.data(), bytes);
                                    read_more(state);
                                  });
  }

  std::optional<Response> take_response(bool head_request, bool keep_interim) {
    while (true) {
      beast_http::response_parser<beast_http::string_body> parser;
      parser.eager(true);
      parser.skip(head_request);
      error_code error;
      const size_t used = parser.put(asio::buffer(state_->received), error);
      if (error == beast_http::error::need_more || !parser.is_done()) return std::nullopt;
      EXPECT_FALSE(error) << error.message() << " in: " << state_->received;
      if (error) return std::nullopt;
      state_->received.erase(0, used);
      Response response = parser.release();
      if (response.result_int() >= 200 || keep_interim) return response;
    }
  }

  asio::io_context& loop_;
  std::shared_ptr<State> state_;
};

std::string header(const Response& response, beast_http::field field) {
  const auto found = response.find(field);
  return found == response.end() ? "" : std::string(found->value());
}

// A server and what its handler saw. By default the handler echoes the
// request at once; tests replace `on_request` to answer differently.
struct TestServer {
  std::unique_ptr<HttpServer> server;
  std::vector<http::HttpRequest> requests;
  std::function<void(const http::HttpRequest&, Respond)> on_request;
  struct Finished {
    std::string method;
    int status;
    double seconds;
  };
  std::vector<Finished> finished;

  static std::unique_ptr<TestServer> start(asio::io_context& loop, HttpServerOptions options = {}) {
    auto test = std::make_unique<TestServer>();
    TestServer* raw = test.get();
    raw->on_request = [](const http::HttpRequest& request, Respond respond) { respond(echo(request)); };
    options.on_finished = [raw](const std::string& method, int status, double seconds) {
      raw->finished.push_back({method, status, seconds});
    };
    absl::StatusOr<std::unique_ptr<HttpServer>> server =
        HttpServer::create(loop, std::move(options), [raw](http::HttpRequest request, Respond respond) {
          raw->requests.push_back(request);
          raw->on_request(raw->requests.back(), std::move(respond));
        });
    EXPECT_TRUE(server.ok()) << server.status();
    if (!server.ok()) return nullptr;
    test->server = std::move(*server);
    return test;
  }

  static http::HttpResponse echo(const http::HttpRequest& request) {
    http::HttpResponse response;
    response.content_type = "text/plain";
    response.body = absl::StrCat(request.method, " ", request.target, " ", request.body);
    response.headers.emplace_back("X-Echo", "yes");
    return response;
  }

  uint16_t port() const { return server->listen_port(); }
  const HttpServerStats& stats() const { return server->stats(); }
};

HttpServerOptions options_with(std::function<void(HttpServerOptions&)> change) {
  HttpServerOptions options;
  change(options);
  return options;
}

TEST(HttpServerTest, GetRoundTripCarriesStatusBodyAndHeaders) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  EXPECT_NE(test->port(), 0);
  TestClient client(loop, test->port());
  client.send(get("/db/query?q=SELECT%201"));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  EXPECT_EQ(response->body(), "GET /db/query?q=SELECT%201 ");
  EXPECT_EQ(header(*response, beast_http::field::server), "reefdb");
  EXPECT_EQ(header(*response, beast_http::field::content_type), "text/plain");
  EXPECT_EQ(response->at("X-Echo"), "yes");
  EXPECT_TRUE(response->keep_alive());
  ASSERT_EQ(test->requests.size(), 1u);
  EXPECT_EQ(test->requests[0].method, "GET");
  EXPECT_EQ(test->requests[0].target, "/db/query?q=SELECT%201");
  EXPECT_EQ(test->stats().requests, 1u);
  EXPECT_EQ(test->stats().responses_2xx, 1u);
  EXPECT_EQ(test->stats().connections_accepted, 1u);
}

TEST(HttpServerTest, PostRoundTripDeliversTheBody) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  test->on_request = [](const http::HttpRequest& request, Respond respond) {
    http::HttpResponse response;  // the API's JSON content type by default
    response.status = 201;
    response.body = request.body;
    respond(std::move(response));
  };
  TestClient client(loop, test->port());
  const std::string body = R"json([["INSERT INTO t VALUES(?)", 1]])json";
  client.send(post("/db/execute", body));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 201u);
  EXPECT_EQ(response->body(), body);
  EXPECT_EQ(header(*response, beast_http::field::content_type), http::kJsonContentType);
  ASSERT_EQ(test->requests.size(), 1u);
  EXPECT_EQ(test->requests[0].method, "POST");
  EXPECT_EQ(test->requests[0].body, body);
}

TEST(HttpServerTest, KeepAliveAnswersSeveralRequestsInOrderOnOneConnection) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  for (int i = 0; i < 5; ++i) {
    client.send(post(absl::StrCat("/one/", i), absl::StrCat("body", i)));
    std::optional<Response> response = client.next_response();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_EQ(response->body(), absl::StrCat("POST /one/", i, " body", i));
  }
  // Pipelined: all three sent before any answer; answers come in order.
  client.send(absl::StrCat(get("/p/0"), post("/p/1", "x"), get("/p/2")));
  for (int i = 0; i < 3; ++i) {
    std::optional<Response> response = client.next_response();
    ASSERT_TRUE(response.has_value()) << i;
    EXPECT_THAT(response->body(), HasSubstr(absl::StrCat("/p/", i)));
  }
  EXPECT_EQ(test->stats().connections_accepted, 1u);
  EXPECT_EQ(test->stats().requests, 8u);
  EXPECT_FALSE(client.closed());
}

TEST(HttpServerTest, AnswerGivenLaterFromTheLoopIsDeliveredAndOnlyOnce) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  std::vector<Respond> pending;
  test->on_request = [&](const http::HttpRequest&, Respond respond) {
    pending.push_back(std::move(respond));
  };
  TestClient client(loop, test->port());
  client.send(get("/slow"));
  ASSERT_TRUE(run_until(loop, [&] { return pending.size() == 1; }));
  // Nothing is written while the answer is pending.
  run_for(loop, 50ms);
  EXPECT_TRUE(client.unparsed().empty());
  asio::steady_timer later(loop);
  later.expires_after(20ms);
  later.async_wait([&](const error_code&) {
    http::HttpResponse response;
    response.body = "late";
    pending[0](response);
    response.body = "second";
    pending[0](response);  // ignored: one answer per request
  });
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "late");
  // The connection serves the next request; the stale respond cannot answer it.
  client.send(get("/next"));
  ASSERT_TRUE(run_until(loop, [&] { return pending.size() == 2; }));
  pending[0](http::HttpResponse{});
  run_for(loop, 50ms);
  EXPECT_TRUE(client.unparsed().empty());
  http::HttpResponse second;
  second.body = "next";
  pending[1](second);
  response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "next");
}

TEST(HttpServerTest, AnswerAfterTheClientDisconnectedIsHarmless) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  Respond pending;
  test->on_request = [&](const http::HttpRequest&, Respond respond) { pending = std::move(respond); };
  {
    TestClient client(loop, test->port());
    client.send(post("/db/execute", "[]"));
    ASSERT_TRUE(run_until(loop, [&] { return pending != nullptr; }));
  }  // the client goes away without its answer
  run_for(loop, 20ms);
  http::HttpResponse response;
  response.body = std::string(256 << 10, 'x');  // more than a socket buffer takes at once
  pending(response);
  EXPECT_TRUE(run_until(loop, [&] { return test->server->open_connections() == 0; }));
  pending(response);  // and again, after the connection is gone
  run_for(loop, 20ms);
  // The server still serves others.
  TestClient other(loop, test->port());
  test->on_request = [](const http::HttpRequest& request, Respond respond) {
    respond(TestServer::echo(request));
  };
  other.send(get("/after"));
  ASSERT_TRUE(other.next_response().has_value());
}

TEST(HttpServerTest, RespondDroppedWithoutAnAnswerGets500) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  test->on_request = [](const http::HttpRequest&, Respond) {};  // a handler bug
  TestClient client(loop, test->port());
  client.send(get("/lost"));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 500u);
  EXPECT_THAT(response->body(), HasSubstr(R"("code":"internal")"));
  EXPECT_EQ(test->stats().unanswered, 1u);
}

TEST(HttpServerTest, OversizedContentLengthGets413WithoutTheBodyBeingRead) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_body_bytes = 1024; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  // Only the header is sent: the answer must not wait for the body.
  client.send("POST /db/execute HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n");
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_THAT(response->body(), HasSubstr(R"("code":"body_too_large")"));
  EXPECT_THAT(response->body(), HasSubstr("1000000"));
  EXPECT_EQ(header(*response, beast_http::field::content_type), http::kJsonContentType);
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(client.wait_closed());
  EXPECT_TRUE(test->requests.empty());
  EXPECT_EQ(test->stats().too_large, 1u);
  EXPECT_EQ(test->stats().responses_4xx, 1u);
}

TEST(HttpServerTest, BodyAtTheLimitIsAccepted) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_body_bytes = 1024; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send(post("/x", std::string(1024, 'b')));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  ASSERT_EQ(test->requests.size(), 1u);
  EXPECT_EQ(test->requests[0].body.size(), 1024u);
}

TEST(HttpServerTest, ExpectContinueGets100ThenTheAnswerOrAnImmediate413) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_body_bytes = 1024; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send("POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  std::optional<Response> interim = client.next_response(/*head_request=*/false, /*keep_interim=*/true);
  ASSERT_TRUE(interim.has_value());
  EXPECT_EQ(interim->result_int(), 100u);
  client.send("hello");
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "POST /c hello");

  client.send("POST /c HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
  response = client.next_response(/*head_request=*/false, /*keep_interim=*/true);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_TRUE(client.wait_closed());
}

TEST(HttpServerTest, ChunkedRequestBodyIsAccepted) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send(
      "POST /db/execute HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n"
      "7\r\n, world\r\n"
      "0\r\n\r\n");
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 200u);
  ASSERT_EQ(test->requests.size(), 1u);
  EXPECT_EQ(test->requests[0].body, "hello, world");
  // The connection stays usable after a chunked body.
  client.send(get("/again"));
  ASSERT_TRUE(client.next_response().has_value());
}

TEST(HttpServerTest, ChunkedBodyPassingTheLimitGets413) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_body_bytes = 1024; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  const std::string chunk(800, 'c');
  client.send(absl::StrCat("POST /x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", "320\r\n",
                           chunk, "\r\n", "320\r\n", chunk, "\r\n0\r\n\r\n"));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 413u);
  EXPECT_THAT(response->body(), HasSubstr(R"("code":"body_too_large")"));
  EXPECT_TRUE(client.wait_closed());
  EXPECT_TRUE(test->requests.empty());
  EXPECT_EQ(test->stats().too_large, 1u);
}

TEST(HttpServerTest, MalformedRequestGets400AndTheConnectionCloses) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  for (const std::string& garbage :
       {std::string("THIS IS NOT HTTP\r\n\r\n"), std::string("GET / HTTP/1.1\r\nBad Header\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n"),
        std::string("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")}) {
    TestClient client(loop, test->port());
    client.send(garbage);
    std::optional<Response> response = client.next_response();
    ASSERT_TRUE(response.has_value()) << garbage;
    EXPECT_EQ(response->result_int(), 400u) << garbage;
    EXPECT_THAT(response->body(), HasSubstr(R"("code":"bad_request")"));
    EXPECT_THAT(response->body(), HasSubstr("malformed HTTP request"));
    EXPECT_TRUE(client.wait_closed()) << garbage;
  }
  EXPECT_TRUE(test->requests.empty());
  EXPECT_EQ(test->stats().bad_requests, 4u);
  ASSERT_EQ(test->finished.size(), 4u);
  EXPECT_EQ(test->finished[0].method, "");
  EXPECT_EQ(test->finished[0].status, 400);
  EXPECT_EQ(test->finished[3].method, "POST");  // the header was fine, the chunk was not
}

TEST(HttpServerTest, HeaderAboveTheLimitGets431) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_header_bytes = 2048; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send(absl::StrCat("GET / HTTP/1.1\r\nHost: t\r\nX-Big: ", std::string(4096, 'h'), "\r\n\r\n"));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 431u);
  EXPECT_THAT(response->body(), HasSubstr("2048"));
  EXPECT_TRUE(client.wait_closed());
  EXPECT_TRUE(test->requests.empty());
  EXPECT_EQ(test->stats().header_too_large, 1u);
}

TEST(HttpServerTest, ConnectionsBeyondTheLimitAreClosedAtOnce) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.max_connections = 2; }));
  ASSERT_NE(test, nullptr);
  TestClient first(loop, test->port());
  TestClient second(loop, test->port());
  ASSERT_TRUE(run_until(loop, [&] { return test->server->open_connections() == 2; }));
  TestClient third(loop, test->port());
  EXPECT_TRUE(third.wait_closed());
  EXPECT_EQ(test->stats().connections_refused, 1u);
  EXPECT_EQ(test->stats().connections_accepted, 2u);
  // The admitted ones are unaffected, and a freed slot is taken again.
  first.send(get("/1"));
  ASSERT_TRUE(first.next_response().has_value());
  second.close();
  ASSERT_TRUE(run_until(loop, [&] { return test->server->open_connections() == 1; }));
  TestClient fourth(loop, test->port());
  fourth.send(get("/4"));
  ASSERT_TRUE(fourth.next_response().has_value());
  EXPECT_EQ(test->stats().connections_accepted, 3u);
}

TEST(HttpServerTest, IdleKeepAliveConnectionIsClosedAfterTheReadTimeout) {
  asio::io_context loop;
  auto test = TestServer::start(loop, options_with([](HttpServerOptions& o) { o.read_timeout = 200ms; }));
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send(get("/"));
  ASSERT_TRUE(client.next_response().has_value());
  EXPECT_TRUE(client.wait_closed());
  EXPECT_EQ(test->stats().read_timeouts, 1u);
  EXPECT_EQ(test->server->open_connections(), 0u);
  // A client trickling a request never finishes it in time either.
  TestClient slow(loop, test->port());
  slow.send("GET / HTTP/1.1\r\n");
  EXPECT_TRUE(slow.wait_closed());
  EXPECT_EQ(test->stats().read_timeouts, 2u);
}

TEST(HttpServerTest, ConnectionCloseAndHttp10EndTheConnectionAfterTheAnswer) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send("GET /bye HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n");
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_FALSE(response->keep_alive());
  EXPECT_TRUE(client.wait_closed());

  TestClient old(loop, test->port());
  old.send("GET /old HTTP/1.0\r\n\r\n");
  response = old.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->version(), 10u);
  EXPECT_EQ(response->body(), "GET /old ");
  EXPECT_TRUE(old.wait_closed());
}

TEST(HttpServerTest, HeadAnswerHasTheLengthButNoBody) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  TestClient client(loop, test->port());
  client.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n");
  std::optional<Response> response = client.next_response(/*head_request=*/true);
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(header(*response, beast_http::field::content_length), "8");  // "HEAD /h "
  EXPECT_TRUE(response->body().empty());
  // Framing intact: the next answer parses.
  client.send(get("/after"));
  response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body(), "GET /after ");
}

TEST(HttpServerTest, UnsafeHandlerHeadersAndInvalidStatusesDoNotReachTheWire) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  test->on_request = [](const http::HttpRequest& request, Respond respond) {
    http::HttpResponse response;
    response.status = request.target == "/bad-status" ? 42 : request.target == "/no-content" ? 204 : 301;
    response.headers = {{"Location", "http://leader:4001/db/query"},
                        {"X-Injected", "a\r\nSet-Cookie: evil=1"},
                        {"Content-Length", "0"},
                        {"Bad Name", "v"}};
    response.body = "{}";
    respond(std::move(response));
  };
  TestClient client(loop, test->port());
  client.send(get("/db/query"));
  std::optional<Response> response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 301u);
  EXPECT_EQ(header(*response, beast_http::field::location), "http://leader:4001/db/query");
  EXPECT_EQ(response->find("X-Injected"), response->end());
  EXPECT_EQ(response->find(beast_http::field::set_cookie), response->end());
  EXPECT_EQ(header(*response, beast_http::field::content_length), "2");
  EXPECT_EQ(response->body(), "{}");
  client.send(get("/bad-status"));
  response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 500u);
  EXPECT_THAT(response->body(), HasSubstr("invalid status 42"));
  client.send(get("/no-content"));  // a body where none is allowed is left out
  response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 204u);
  EXPECT_EQ(response->find(beast_http::field::content_length), response->end());
  EXPECT_TRUE(response->body().empty());
  client.send(get("/db/query"));
  response = client.next_response();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->result_int(), 301u);
}

TEST(HttpServerTest, OnFinishedReportsMethodStatusAndMonotonicDuration) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  Respond pending;
  test->on_request = [&](const http::HttpRequest&, Respond respond) { pending = std::move(respond); };
  TestClient client(loop, test->port());
  client.send(post("/db/execute", "[]"));
  ASSERT_TRUE(run_until(loop, [&] { return pending != nullptr; }));
  run_for(loop, 30ms);
  http::HttpResponse response;
  response.status = 503;
  pending(response);
  ASSERT_TRUE(client.next_response().has_value());
  ASSERT_TRUE(run_until(loop, [&] { return test->finished.size() == 1; }));
  EXPECT_EQ(test->finished[0].method, "POST");
  EXPECT_EQ(test->finished[0].status, 503);
  EXPECT_GE(test->finished[0].seconds, 0.025);
  EXPECT_LT(test->finished[0].seconds, 20.0);
  EXPECT_EQ(test->stats().responses_5xx, 1u);
}

TEST(HttpServerTest, StopClosesOpenConnectionsAndLaterAnswersDoNothing) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  Respond pending;
  test->on_request = [&](const http::HttpRequest&, Respond respond) { pending = std::move(respond); };
  TestClient idle(loop, test->port());
  TestClient waiting(loop, test->port());
  TestClient reading(loop, test->port());
  waiting.send(get("/pending"));
  reading.send("POST /half HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc");
  ASSERT_TRUE(run_until(loop, [&] { return pending != nullptr && test->server->open_connections() == 3; }));
  const uint16_t port = test->port();
  test->server->stop();
  EXPECT_TRUE(test->server->stopped());
  EXPECT_EQ(test->server->open_connections(), 0u);
  EXPECT_TRUE(idle.wait_closed());
  EXPECT_TRUE(waiting.wait_closed());
  EXPECT_TRUE(reading.wait_closed());
  pending(http::HttpResponse{});  // after stop: nothing happens
  test->server->stop();           // idempotent
  run_for(loop, 20ms);
  EXPECT_TRUE(waiting.unparsed().empty());
  // Nobody listens any more.
  tcp::socket probe(loop);
  error_code error;
  probe.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), error);
  EXPECT_TRUE(error);
  // Destroying the server, then answering, is harmless too.
  test->server.reset();
  pending(http::HttpResponse{});
  run_for(loop, 20ms);
}

TEST(HttpServerTest, StopFromInsideTheHandlerIsSafe) {
  asio::io_context loop;
  auto test = TestServer::start(loop);
  ASSERT_NE(test, nullptr);
  test->on_request = [&](const http::HttpRequest& request, Respond respond) {
    test->server->stop();
    respond(TestServer::echo(request));  // too late: the connection is closed
  };
  TestClient client(loop, test->port());
  client.send(get("/stop"));
  EXPECT_TRUE(client.wait_closed());
  EXPECT_TRUE(client.unparsed().empty());
}

TEST(HttpServerTest, InvalidOptionsAndBusyPortsAreRefused) {
  asio::io_context loop;
  auto handler = [](http::HttpRequest, Respond respond) { respond(http::HttpResponse{}); };
  auto create = [&](HttpServerOptions options) {
    return HttpServer::create(loop, std::move(options), handler);
  };
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.listen_address = "nohost"; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.max_body_bytes = 0; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.max_header_bytes = 10; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.read_timeout = 0ms; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.max_connections = 0; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(create(options_with([](HttpServerOptions& o) { o.server_header = "a\r\nb"; })).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(HttpServer::create(loop, HttpServerOptions{}, nullptr).status().code(),
            absl::StatusCode::kInvalidArgument);

  absl::StatusOr<std::unique_ptr<HttpServer>> first = create(HttpServerOptions{});
  ASSERT_TRUE(first.ok()) << first.status();
  // SO_REUSEADDR does not let a second listener take a port in use.
  absl::StatusOr<std::unique_ptr<HttpServer>> second = create(options_with(
      [&](HttpServerOptions& o) { o.listen_address = absl::StrCat("127.0.0.1:", (*first)->listen_port()); }));
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
}

}  // namespace
}  // namespace reef::prod
