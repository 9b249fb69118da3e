// ProcessCluster: real `reefdb serve` processes on 127.0.0.1 for the prod
// tests — started with fork/exec (prod/server/child_process.h), killed with real signals (SIGKILL
// included), restarted on the same data directory, talked to over HTTP.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace reef::prod::testing {

struct HttpReply {
  int status = 0;  // 0: no answer (connection failed)
  std::string body;
  std::string location;         // the Location header, if any
  nlohmann::json json() const;  // null when the body is not JSON
};

// One blocking HTTP/1.1 request with a fresh connection (timeouts: 10 s).
HttpReply http_request(uint16_t port, const std::string& method, const std::string& target,
                       const std::string& body = "", const std::string& content_type = "application/json");

// A fresh directory under the system's temp directory named
// "<prefix>-XXXXXX" ("" if it could not be made).
std::string make_temp_dir(const std::string& prefix);

// The whole text of a file ("" if it cannot be read): a node's log.
std::string file_text(const std::string& path);

// Ports the kernel just handed out as free (bound to port 0 and released).
std::vector<uint16_t> free_ports(size_t count);

// The first of `count` consecutive ports that were all free a moment ago,
// below the ephemeral range (for `reefdb dev-cluster --base-port`); nullopt
// if none was found.
std::optional<uint16_t> free_port_range(size_t count);

class ProcessCluster {
 public:
  // `dir` holds node-i/ data directories and node-i.log files.
  ProcessCluster(std::string binary, std::string dir, size_t nodes);
  ~ProcessCluster();  // SIGKILLs what still runs

  // Flags ("--name=value") added to every node's command line from the next start.
  void add_flags(const std::vector<std::string>& flags);

  void start_all();
  void start(size_t node);                // 1-based
  void kill(size_t node, int signal);     // and waits for the process to exit
  void signal(size_t node, int signal);   // sends it and returns (SIGSTOP, SIGCONT)
  bool running(size_t node) const;
  // Waits for the node to exit by itself: its exit status (128 + signal if
  // a signal ended it), or nullopt if it still runs after `timeout_ms`.
  std::optional<int> wait_for_exit(size_t node, uint64_t timeout_ms);
  uint16_t http_port(size_t node) const { return http_ports_[node - 1]; }
  uint16_t raft_port(size_t node) const { return raft_ports_[node - 1]; }
  size_t size() const { return http_ports_.size(); }
  std::string log_of(size_t node) const;  // the node's log file, for failure messages
  std::string data_dir(size_t node) const;

  HttpReply http(size_t node, const std::string& method, const std::string& target, const std::string& body = "") const;
  // The node every running node names as leader, once they agree (nullopt
  // after `timeout_ms`).
  std::optional<size_t> wait_for_leader(uint64_t timeout_ms) const;
  // Waits until every running node applied at least `index`.
  bool wait_for_applied(uint64_t index, uint64_t timeout_ms) const;

 private:
  std::string peers_flag() const;

  std::string binary_;
  std::string dir_;
  std::vector<uint16_t> http_ports_;
  std::vector<uint16_t> raft_ports_;
  std::vector<pid_t> pids_;  // 0: not running
  std::vector<std::string> extra_flags_;
};

}  // namespace reef::prod::testing
