// HttpApiService: what the `reefdb` HTTP port answers. It turns HTTP
// requests into node requests and node answers into HTTP responses, on the
// node loop:
//
//   /db/execute, /db/query, /db/request   parse_api_request(); with
//       `redirect`, 301 to the leader unless this node leads or the request
//       is only level-none reads; 413 when an operation would not fit in a
//       log entry (raft.max_entry_bytes); then each planned operation
//       through ServerNode::submit in statement order (the next one starts
//       when the previous one answered), then write_results()
//   GET /status    this node's Raft state, addresses, transport counters (JSON)
//   /nodes, /nodes/..., /join, /remove   membership (prod/server/membership_endpoints.h)
//   GET /readyz    200 when this node knows a leader and runs, else 503
//   GET /metrics   Prometheus text (reefdb_* names, prod/observe/node_metrics.h)
//   POST /admin/transfer-leader?to=ID   hand leadership to node ID (leader only)
//   POST /admin/snapshot   snapshot this node's state machine now and compact its log
//
// Leader hints from the node are node ids; the server's address book
// (static peers, then the replicated one) gives their HTTP addresses for
// "not leader" answers and redirects.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

#include "prod/api/http_api_request.h"
#include "prod/api/http_message.h"
#include "prod/config/server_config.h"
#include "prod/observe/metrics.h"
#include "prod/observe/node_metrics.h"
#include "prod/server/membership_admin.h"
#include "prod/server/membership_endpoints.h"
#include "prod/server/server_node.h"

namespace reef::prod {

class HttpApiService {
 public:
  using Respond = std::function<void(http::HttpResponse)>;

  // `node`, `config` and `membership` must outlive this.
  HttpApiService(ServerNode& node, const ServerConfig& config, MembershipAdmin& membership);

  void handle(http::HttpRequest request, Respond respond);
  // Called by the HTTP server once per answered request.
  void request_finished(const std::string& method, int status, double seconds);

 private:
  struct Running;  // one API request being carried out

  void run_api(http::HttpRequest request, Respond respond);
  std::optional<http::HttpResponse> redirect_to_leader(const http::ApiRequest& request,
                                                       const std::string& target) const;
  static std::vector<std::string> encode_payloads(const http::ApiRequest& request);
  void run_next_operation(std::shared_ptr<Running> running);
  void finish(std::shared_ptr<Running> running);
  http::HttpResponse status_response() const;
  // /status "identity": this directory's incarnation, the peers this node
  // refuses (wiped directories) and the peers that refuse it.
  nlohmann::json identity_json() const;
  http::HttpResponse readyz_response() const;
  http::HttpResponse metrics_response();
  http::HttpResponse transfer_leader(const http::HttpRequest& request);
  http::HttpResponse take_snapshot();
  std::optional<std::string> http_address_of(raft::NodeId id) const;

  ServerNode& node_;
  const ServerConfig& config_;
  MetricsRegistry registry_;
  NodeMetrics metrics_{registry_};
  MembershipEndpoints membership_;
};

}  // namespace reef::prod
