#include "prod/server/http_api_service.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/api/http_query_options.h"
#include "prod/api/http_request_parser.h"
#include "prod/api/http_response_writer.h"
#include "raft/core/state.h"

namespace reef::prod {
namespace {

using Clock = std::chrono::steady_clock;

http::HttpResponse json_response(int status, const nlohmann::json& body) {
  http::HttpResponse response;
  response.status = status;
  response.body = body.dump(2) + "\n";
  return response;
}

http::HttpResponse error_response(http::ApiErrorCode code, std::string message) {
  return http::write_error(http::ApiError{code, std::move(message), ""});
}

http::HttpResponse method_not_allowed(const std::string& allow) {
  http::HttpResponse response = error_response(http::ApiErrorCode::kMethodNotAllowed, absl::StrCat("use ", allow));
  response.headers.emplace_back("Allow", allow);
  return response;
}

std::string_view path_of(const std::string& target) {
  const size_t query = target.find('?');
  return std::string_view(target).substr(0, query);
}

std::string_view query_of(const std::string& target) {
  const size_t query = target.find('?');
  return query == std::string::npos ? std::string_view() : std::string_view(target).substr(query + 1);
}

}  // namespace

struct HttpApiService::Running {
  http::ApiRequest request;
  std::vector<std::string> payloads;  // operation_payload() of each operation, "" for refused ones
  std::string target;
  Respond respond;
  Clock::time_point started;
  uint64_t timeout_ms = 0;
  size_t next = 0;
  std::vector<http::OperationOutcome> outcomes;
  std::optional<raft::NodeId> leader_hint;
};

HttpApiService::HttpApiService(ServerNode& node, const ServerConfig& config, MembershipAdmin& membership)
    : node_(node), config_(config), membership_(node, membership) {}

void HttpApiService::handle(http::HttpRequest request, Respond respond) {
  const std::string_view path = path_of(request.target);
  if (path.starts_with("/db/")) return run_api(std::move(request), std::move(respond));
  if (membership_.handle(request, path, respond)) return;
  const bool get = request.method == "GET";
  if (path == "/status" && get) return respond(status_response());
  if (path == "/readyz" && get) return respond(readyz_response());
  if (path == "/metrics" && get) return respond(metrics_response());
  const bool post = request.method == "POST";
  if (path == "/admin/transfer-leader" && post) return respond(transfer_leader(request));
  if (path == "/admin/snapshot" && post) return respond(take_snapshot());
  if (path == "/status" || path == "/readyz" || path == "/metrics") {
    return respond(method_not_allowed("GET"));
  }
  if (path == "/admin/transfer-leader" || path == "/admin/snapshot") return respond(method_not_allowed("POST"));
  respond(error_response(http::ApiErrorCode::kNotFound, absl::StrCat("no such endpoint: ", std::string(path))));
}

void HttpApiService::request_finished(const std::string& method, int status, double seconds) {
  metrics_.http_request_finished(method, status, seconds);
}

void HttpApiService::run_api(http::HttpRequest request, Respond respond) {
  const http::HttpApiLimits limits{.max_body_bytes = config_.limits.max_http_body_bytes};
  http::ApiResult<http::ApiRequest> parsed = http::parse_api_request(request, limits);
  if (!parsed.ok()) return respond(http::write_error(parsed.error(), false));
  if (std::optional<http::HttpResponse> redirect = redirect_to_leader(*parsed, request.target)) {
    return respond(*std::move(redirect));
  }
  // Encoded once: checked against the entry limit here, sent as they are.
  std::vector<std::string> payloads = encode_payloads(*parsed);
  if (auto too_large = http::check_entry_sizes(*parsed, payloads, config_.raft.max_entry_bytes)) {
    return respond(http::write_error(*too_large, parsed->options.pretty));
  }
  auto running = std::make_shared<Running>();
  running->request = std::move(*parsed);
  running->payloads = std::move(payloads);
  running->target = std::move(request.target);
  running->respond = std::move(respond);
  running->started = Clock::now();
  const std::optional<int64_t> timeout_ns = running->request.options.timeout_ns;
  running->timeout_ms = timeout_ns ? static_cast<uint64_t>(*timeout_ns / 1'000'000) : config_.requests.timeout_ms;
  running->outcomes.resize(running->request.operations.size());
  run_next_operation(std::move(running));
}

// rqlite's `redirect`: a node that is not the leader sends the client there
// (301) instead of forwarding; checked once, when the request arrives.
std::optional<http::HttpResponse> HttpApiService::redirect_to_leader(const http::ApiRequest& request,
                                                                     const std::string& target) const {
  if (!request.options.redirect || !http::redirected_to_leader(request)) return std::nullopt;
  const raft::NodeStatus status = node_.status();
  if (status.role == raft::Role::kLeader) return std::nullopt;
  http::ResponseContext context;
  context.target = target;
  if (status.leader) context.leader_http_address = http_address_of(*status.leader);
  return http::write_not_leader(request.options, context);
}

std::vector<std::string> HttpApiService::encode_payloads(const http::ApiRequest& request) {
  std::vector<std::string> payloads;
  payloads.reserve(request.operations.size());
  for (const http::Operation& operation : request.operations) {
    payloads.push_back(http::needs_node(operation) ? http::operation_payload(operation) : std::string());
  }
  return payloads;
}

// Operations run one after another: statement order is the order they take
// effect, as rqlite's independent statements do.
void HttpApiService::run_next_operation(std::shared_ptr<Running> running) {
  while (running->next < running->request.operations.size() &&
         !http::needs_node(running->request.operations[running->next])) {
    ++running->next;
  }
  if (running->next == running->request.operations.size()) return finish(std::move(running));
  const http::Operation& operation = running->request.operations[running->next];
  raft::ClientRequest request;
  request.kind = http::request_kind(running->request, operation);
  request.payload = std::move(running->payloads[running->next]);
  request.min_applied = raft::Index(running->request.options.min_index);
  request.freshness = freshness_bound(running->request.options);
  request.deadline_ms = node_.clock().now_ms() + running->timeout_ms;
  const Clock::time_point started = Clock::now();
  node_.submit(std::move(request), [this, running, started](raft::ClientResponse response) mutable {
    http::OperationOutcome& outcome = running->outcomes[running->next];
    outcome.status = std::move(response.status);
    outcome.response = std::move(response.response);
    outcome.raft_index = outcome.status.ok() ? response.applied.value() : 0;
    outcome.elapsed_seconds = std::chrono::duration<double>(Clock::now() - started).count();
    if (!outcome.status.ok()) metrics_.proposal_failed();
    if (response.leader_hint) running->leader_hint = response.leader_hint;
    ++running->next;
    run_next_operation(std::move(running));
  });
}

void HttpApiService::finish(std::shared_ptr<Running> running) {
  http::ResponseContext context;
  context.elapsed_seconds = std::chrono::duration<double>(Clock::now() - running->started).count();
  context.target = running->target;
  const std::optional<raft::NodeId> leader = running->leader_hint ? running->leader_hint : node_.status().leader;
  if (leader) context.leader_http_address = http_address_of(*leader);
  running->respond(http::write_results(running->request, running->outcomes, context));
}

std::optional<std::string> HttpApiService::http_address_of(raft::NodeId id) const {
  return node_.addresses().http_url(id);
}

http::HttpResponse HttpApiService::status_response() const {
  const raft::NodeStatus s = node_.status();
  nlohmann::json leader = nullptr;
  if (s.leader) {
    leader = {{"node_id", s.leader->value()}, {"api_addr", http_address_of(*s.leader).value_or("")}};
  }
  // For a leader, contact with a quorum (raft/driver/node_freshness.h); null: none
  // in this term. What `freshness` on level-none reads is compared with.
  nlohmann::json contact_age = nullptr;
  if (s.freshness.leader_contact_ms) {
    const uint64_t now = node_.clock().now_ms();
    contact_age = now - std::min(now, *s.freshness.leader_contact_ms);
  }
  const AsioTransportStats& t = node_.transport_stats();
  return json_response(
      200, {{"node_id", s.id.value()},
            {"cluster", config_.cluster_name},
            {"raft",
             {{"role", raft::role_name(s.role)},
              {"term", s.term.value()},
              {"leader", leader},
              {"commit_index", s.commit.value()},
              {"applied_index", s.applied.value()},
              {"last_index", s.last_index.value()},
              {"snapshot_index", s.snapshot_index.value()},
              {"log_writes_in_flight", s.log_writes_in_flight},
              {"log_syncs", node_.log_syncs()},
              {"pending_requests", s.pending_requests},
              {"last_leader_contact_ms_ago", contact_age},
              {"configuration", node_.core().configuration().describe()},
              {"membership_change_in_flight", node_.core().membership_change_in_flight()},
              {"stopped", s.stopped}}},
            {"transport",
             {{"raft_port", node_.raft_port()},
              {"frames_sent", t.frames_sent},
              {"frames_received", t.frames_received},
              {"reconnects", t.reconnects},
              {"frames_refused", t.frames_refused}}},
            {"identity", identity_json()},
            {"recovery_notes", node_.recovery_notes()}});
}

nlohmann::json HttpApiService::identity_json() const {
  auto hex = [](uint64_t incarnation) { return absl::StrCat(absl::Hex(incarnation, absl::kZeroPad16)); };
  const PeerIdentityGuard& guard = node_.peer_identity();
  nlohmann::json refused = nlohmann::json::object();
  for (const auto& [peer, refusal] : guard.refused_peers()) {
    refused[std::to_string(peer.value())] = {{"incarnation", hex(refusal.seen)},
                                             {"remembered_incarnation", hex(refusal.remembered)},
                                             {"messages_refused", refusal.messages}};
  }
  nlohmann::json refused_by = nlohmann::json::array();
  for (raft::NodeId peer : guard.refused_by_peers()) refused_by.push_back(peer.value());
  return {{"incarnation", hex(node_.identity().incarnation)},
          {"refused_peers", std::move(refused)},
          {"refused_by", std::move(refused_by)}};
}

http::HttpResponse HttpApiService::readyz_response() const {
  const raft::NodeStatus s = node_.status();
  http::HttpResponse response;
  response.content_type = "text/plain; charset=utf-8";
  if (s.stopped) {
    response.status = 503;
    response.body = "[-]node stopped\n";
  } else if (!s.leader) {
    response.status = 503;
    response.body = "[+]node ok\n[-]leader none\n";
  } else {
    response.body = absl::StrCat("[+]node ok\n[+]leader ok (node ", s.leader->value(), ")\n");
  }
  return response;
}

http::HttpResponse HttpApiService::metrics_response() {
  metrics_.update_from(node_.status());
  node_.export_measurements(metrics_);
  http::HttpResponse response;
  response.content_type = std::string(kPrometheusContentType);
  response.body = registry_.render();
  return response;
}

http::HttpResponse HttpApiService::transfer_leader(const http::HttpRequest& request) {
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      http::parse_query_string(query_of(request.target));
  uint64_t to = 0;
  if (query.ok()) {
    for (const auto& [key, value] : *query) {
      if (key == "to" && !absl::SimpleAtoi(value, &to)) to = 0;
    }
  }
  if (to == 0 || !node_.core().configuration().is_voter(raft::NodeId(to))) {
    return error_response(http::ApiErrorCode::kBadParameter, "to: the id of a voter is required");
  }
  const raft::NodeStatus s = node_.status();
  if (s.role != raft::Role::kLeader) {
    return error_response(s.leader ? http::ApiErrorCode::kNotLeader : http::ApiErrorCode::kNoLeader,
                          "leadership can only be transferred by the leader");
  }
  node_.transfer_leadership(raft::NodeId(to));
  return json_response(202, {{"transferring_to", to}});
}

// rqlite has no such endpoint (it snapshots by policy only); the answer
// follows the rest of the admin API: JSON, and the node's own words on failure.
http::HttpResponse HttpApiService::take_snapshot() {
  absl::StatusOr<raft::SnapshotTaken> taken = node_.snapshot_now();
  if (!taken.ok()) {
    // The node was stopped, or failing to store the snapshot stopped it.
    return error_response(http::ApiErrorCode::kUnavailable, std::string(taken.status().message()));
  }
  return json_response(200, {{"snapshot_index", taken->index.value()},
                             {"snapshot_term", taken->term.value()},
                             {"already_current", taken->already_current}});
}

}  // namespace reef::prod
