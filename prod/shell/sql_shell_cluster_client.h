// ClusterClient: the shell's connection to a ReefDB cluster rather than to
// one node. It talks to one node at a time (HttpClient) and moves:
//  - to the leader, when a node answers "not leader" (503 with a "leader"
//    address, or a 301 redirect): the request is sent once more there;
//  - to another known node, when the current one cannot be reached: each
//    other node learned from GET /nodes is tried in turn, and the first that
//    answers becomes the current node.
// Resending is safe: reads change nothing, and the shell sends writes with
// an exactly-once id (client_id/seq), so a write that did commit before the
// connection broke is answered from the session table, not applied twice.
//
// Every move is reported through the notice callback ("following the
// leader to 127.0.0.1:4002") so the user sees which node answers.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prod/api/http_message.h"
#include "prod/http/http_client.h"

namespace reef::prod {

// "host:port" of the leader named by a not-leader answer: the "leader"
// field of a 503 body, or the Location of a 301; nullopt for any other answer.
std::optional<std::string> leader_address_of(const http::HttpResponse& response);


class ClusterClient {
 public:
  using NoticeHandler = std::function<void(const std::string& notice)>;

  ClusterClient(std::string host_port, HttpClientTimeouts timeouts);

  absl::StatusOr<http::HttpResponse> request(std::string_view method, std::string_view target,
                                             std::string_view body = {});

  // Learns the members from a GET /nodes body ({"id": {"api_addr": ...}}).
  // Malformed bodies teach nothing.
  void learn_nodes(const std::string& nodes_body);
  // GET /nodes on the current node and learn_nodes() from the answer.
  absl::Status refresh_nodes();

  const std::string& current() const { return client_->host_port(); }
  // Every node address known, the current one included, in the order learned.
  const std::vector<std::string>& known_nodes() const { return known_; }
  void set_notice_handler(NoticeHandler handler) { notice_ = std::move(handler); }

 private:
  absl::StatusOr<http::HttpResponse> request_with_failover(std::string_view method, std::string_view target,
                                                           std::string_view body);
  void switch_to(std::unique_ptr<HttpClient> client, const std::string& why);
  void learn(const std::string& host_port);

  const HttpClientTimeouts timeouts_;
  std::unique_ptr<HttpClient> client_;
  std::vector<std::string> known_;
  NoticeHandler notice_;
};

}  // namespace reef::prod
