#include "tests/prod/support/process_cluster.h"

#include <signal.h>
#include <sys/wait.h>

#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "prod/server/child_process.h"

namespace reef::prod::testing {
namespace {

namespace beast = boost::beast;
using tcp = boost::asio::ip::tcp;

void sleep_ms(int ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

}  // namespace

nlohmann::json HttpReply::json() const {
  return nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
}

std::string make_temp_dir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  const char* dir = mkdtemp(pattern.data());
  return dir == nullptr ? std::string() : std::string(dir);
}

std::string file_text(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

HttpReply http_request(uint16_t port, const std::string& method, const std::string& target, const std::string& body,
                       const std::string& content_type) {
  try {
    boost::asio::io_context io;
    beast::tcp_stream stream(io);
    stream.expires_after(std::chrono::seconds(10));
    stream.connect(tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    beast::http::request<beast::http::string_body> request(beast::http::string_to_verb(method), target, 11);
    request.set(beast::http::field::host, absl::StrCat("127.0.0.1:", port));
    if (!body.empty()) request.set(beast::http::field::content_type, content_type);
    request.body() = body;
    request.prepare_payload();
    beast::http::write(stream, request);
    beast::flat_buffer buffer;
    beast::http::response_parser<beast::http::string_body> parser;
    parser.body_limit(64 << 20);
    beast::http::read(stream, buffer, parser);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    const auto& response = parser.get();
    return HttpReply{static_cast<int>(response.result_int()), response.body(),
                     std::string(response[beast::http::field::location])};
  } catch (const std::exception&) {
    return HttpReply{};
  }
}

std::vector<uint16_t> free_ports(size_t count) {
  boost::asio::io_context io;
  std::vector<tcp::acceptor> held;
  std::vector<uint16_t> ports;
  for (size_t i = 0; i < count; ++i) {
    held.emplace_back(io, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    ports.push_back(held.back().local_endpoint().port());
  }
  return ports;  // the acceptors close here; the ports stay free for a while
}

// Below the kernel's ephemeral range (32768 and up by default), so that no
// outgoing connection takes one of the ports between this probe and the
// server's bind; probed with SO_REUSEADDR, as the servers bind.
std::optional<uint16_t> free_port_range(size_t count) {
  constexpr int kAttempts = 50;
  constexpr uint32_t kLowest = 20000;
  constexpr uint32_t kEphemeralStart = 32768;
  std::random_device random;
  boost::asio::io_context io;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const auto first = static_cast<uint16_t>(kLowest + random() % (kEphemeralStart - kLowest - count));
    std::vector<tcp::acceptor> held;
    boost::system::error_code error;
    for (size_t i = 0; i < count && !error; ++i) {
      tcp::acceptor acceptor(io);
      const tcp::endpoint endpoint(boost::asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(first + i));
      acceptor.open(endpoint.protocol(), error);
      if (!error) acceptor.set_option(tcp::acceptor::reuse_address(true), error);
      if (!error) acceptor.bind(endpoint, error);
      if (!error) acceptor.listen(boost::asio::socket_base::max_listen_connections, error);
      if (!error) held.push_back(std::move(acceptor));
    }
    if (!error) return first;
  }
  return std::nullopt;
}

ProcessCluster::ProcessCluster(std::string binary, std::string dir, size_t nodes)
    : binary_(std::move(binary)), dir_(std::move(dir)), pids_(nodes, 0) {
  const std::vector<uint16_t> ports = free_ports(2 * nodes);
  for (size_t i = 0; i < nodes; ++i) {
    http_ports_.push_back(ports[2 * i]);
    raft_ports_.push_back(ports[2 * i + 1]);
  }
}

ProcessCluster::~ProcessCluster() {
  for (size_t node = 1; node <= pids_.size(); ++node) {
    if (running(node)) kill(node, SIGKILL);
  }
}

std::string ProcessCluster::peers_flag() const {
  std::vector<std::string> peers;
  for (size_t i = 0; i < http_ports_.size(); ++i) {
    peers.push_back(absl::StrCat(i + 1, "=127.0.0.1:", raft_ports_[i], "/127.0.0.1:", http_ports_[i]));
  }
  return absl::StrJoin(peers, ",");
}

std::string ProcessCluster::log_of(size_t node) const { return absl::StrCat(dir_, "/node-", node, ".log"); }

std::string ProcessCluster::data_dir(size_t node) const { return absl::StrCat(dir_, "/node-", node); }

void ProcessCluster::add_flags(const std::vector<std::string>& flags) {
  extra_flags_.insert(extra_flags_.end(), flags.begin(), flags.end());
}

void ProcessCluster::start_all() {
  for (size_t node = 1; node <= pids_.size(); ++node) start(node);
}

// Fast timings (tick 20 ms, election 300 ms) keep the tests short.
void ProcessCluster::start(size_t node) {
  std::vector<std::string> argv = {binary_,
                                   "serve",
                                   "--node-id",
                                   std::to_string(node),
                                   "--cluster-name",
                                   "prod-test",
                                   "--data-dir",
                                   data_dir(node),
                                   "--peers",
                                   peers_flag(),
                                   "--raft-tick-ms",
                                   "20",
                                   "--raft-heartbeat-ms",
                                   "40",
                                   "--raft-election-timeout-ms",
                                   "300",
                                   "--log-level",
                                   "debug"};
  argv.insert(argv.end(), extra_flags_.begin(), extra_flags_.end());
  // 0 (not running) if fork failed: the test then fails waiting for the node.
  pids_[node - 1] = spawn_child({.path = binary_,
                                 .argv = std::move(argv),
                                 .log_path = log_of(node),
                                 // A test that crashes leaves no node behind
                                 // holding its ports (tests start nodes
                                 // from their main thread).
                                 .terminate_with_parent = true,
                                 .name = absl::StrCat("node ", node)})
                        .value_or(0);
}

void ProcessCluster::kill(size_t node, int signal) {
  const pid_t pid = pids_[node - 1];
  if (pid == 0) return;
  ::kill(pid, signal);
  waitpid(pid, nullptr, 0);
  pids_[node - 1] = 0;
}

void ProcessCluster::signal(size_t node, int signal) {
  if (pids_[node - 1] != 0) ::kill(pids_[node - 1], signal);
}

bool ProcessCluster::running(size_t node) const { return pids_[node - 1] != 0; }

std::optional<int> ProcessCluster::wait_for_exit(size_t node, uint64_t timeout_ms) {
  const pid_t pid = pids_[node - 1];
  if (pid == 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) {
      pids_[node - 1] = 0;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return std::nullopt;
}

HttpReply ProcessCluster::http(size_t node, const std::string& method, const std::string& target,
                               const std::string& body) const {
  return http_request(http_port(node), method, target, body);
}

std::optional<size_t> ProcessCluster::wait_for_leader(uint64_t timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    std::optional<uint64_t> agreed;
    bool all = true;
    for (size_t node = 1; node <= pids_.size() && all; ++node) {
      if (!running(node)) continue;
      // Any part may be missing while a node starts or stops (a const
      // json's operator[] asserts on a missing key).
      const nlohmann::json status = http(node, "GET", "/status").json();
      const nlohmann::json::json_pointer leader_id("/raft/leader/node_id");
      if (!status.is_object() || !status.contains(leader_id) || !status[leader_id].is_number_unsigned()) {
        all = false;
        break;
      }
      const uint64_t id = status[leader_id].get<uint64_t>();
      if (agreed && *agreed != id) all = false;
      agreed = id;
    }
    if (all && agreed && running(*agreed)) return *agreed;
    sleep_ms(50);
  }
  return std::nullopt;
}

bool ProcessCluster::wait_for_applied(uint64_t index, uint64_t timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    bool all = true;
    for (size_t node = 1; node <= pids_.size() && all; ++node) {
      if (!running(node)) continue;
      const nlohmann::json status = http(node, "GET", "/status").json();
      const nlohmann::json::json_pointer applied("/raft/applied_index");
      all = status.is_object() && status.contains(applied) && status[applied].get<uint64_t>() >= index;
    }
    if (all) return true;
    sleep_ms(50);
  }
  return false;
}

}  // namespace reef::prod::testing
