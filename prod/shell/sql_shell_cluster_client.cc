#include "prod/shell/sql_shell_cluster_client.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

namespace reef::prod {

std::optional<std::string> leader_address_of(const http::HttpResponse& response) {
  if (response.status == 301 || response.status == 307) {
    const std::optional<std::string> location = header_value(response, "Location");
    if (location && !location->empty()) return host_port_of_url(*location);
    return std::nullopt;
  }
  if (response.status != 503) return std::nullopt;
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (!body.is_object()) return std::nullopt;
  const auto leader = body.find("leader");
  if (leader == body.end() || !leader->is_string() || leader->get<std::string>().empty()) return std::nullopt;
  return host_port_of_url(leader->get<std::string>());
}

ClusterClient::ClusterClient(std::string host_port, HttpClientTimeouts timeouts)
    : timeouts_(timeouts), client_(std::make_unique<HttpClient>(host_port, timeouts)) {
  learn(host_port);
}

absl::StatusOr<http::HttpResponse> ClusterClient::request(std::string_view method, std::string_view target,
                                                          std::string_view body) {
  absl::StatusOr<http::HttpResponse> response = request_with_failover(method, target, body);
  if (!response.ok()) return response;
  const std::optional<std::string> leader = leader_address_of(*response);
  // Once only: two nodes naming each other as leader (an election in
  // progress) must not bounce the shell back and forth.
  if (!leader || *leader == current()) return response;
  learn(*leader);
  switch_to(std::make_unique<HttpClient>(*leader, timeouts_), absl::StrCat("following the leader to ", *leader));
  return request_with_failover(method, target, body);
}

absl::StatusOr<http::HttpResponse> ClusterClient::request_with_failover(std::string_view method,
                                                                        std::string_view target,
                                                                        std::string_view body) {
  absl::StatusOr<http::HttpResponse> response = client_->request(method, target, body);
  if (response.ok() || response.status().code() != absl::StatusCode::kUnavailable) return response;
  const std::string unreachable = current();
  const std::vector<std::string> candidates = known_;  // switch_to() must not invalidate the loop
  for (const std::string& candidate : candidates) {
    if (candidate == unreachable) continue;
    auto client = std::make_unique<HttpClient>(candidate, timeouts_);
    absl::StatusOr<http::HttpResponse> answer = client->request(method, target, body);
    if (!answer.ok()) continue;
    switch_to(std::move(client), absl::StrCat(unreachable, " is unreachable; switched to ", candidate));
    return answer;
  }
  return response;
}

void ClusterClient::switch_to(std::unique_ptr<HttpClient> client, const std::string& why) {
  client_ = std::move(client);
  if (notice_) notice_(why);
}

void ClusterClient::learn(const std::string& host_port) {
  if (host_port.empty()) return;
  if (std::find(known_.begin(), known_.end(), host_port) == known_.end()) known_.push_back(host_port);
}

void ClusterClient::learn_nodes(const std::string& nodes_body) {
  const nlohmann::json nodes = nlohmann::json::parse(nodes_body, nullptr, false);
  if (!nodes.is_object()) return;
  for (const auto& [id, node] : nodes.items()) {
    if (!node.is_object()) continue;
    const auto address = node.find("api_addr");
    if (address != node.end() && address->is_string()) learn(host_port_of_url(address->get<std::string>()));
  }
}

absl::Status ClusterClient::refresh_nodes() {
  absl::StatusOr<http::HttpResponse> response = client_->request("GET", "/nodes");
  if (!response.ok()) return response.status();
  if (response->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET /nodes on ", current(), " answered HTTP ", response->status));
  }
  learn_nodes(response->body);
  return absl::OkStatus();
}

}  // namespace reef::prod
