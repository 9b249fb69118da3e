#include "prod/server/join_client.h"

#include <optional>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/http/http_client.h"

namespace reef::prod {
namespace {

std::string error_of(const http::HttpResponse& response) {
  const nlohmann::json body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) return body["error"].get<std::string>();
  return absl::StrCat("HTTP ", response.status);
}

enum class Outcome { kAdded, kRefused, kRetry };

void read_answer(const nlohmann::json& answer, JoinAnswer& added) {
  if (!answer.is_object()) return;
  added.configuration = answer.value("configuration", "");
  if (!answer.contains("nodes") || !answer["nodes"].is_object()) return;
  for (const auto& [id, addresses] : answer["nodes"].items()) {
    uint64_t parsed = 0;
    if (!absl::SimpleAtoi(id, &parsed) || !addresses.is_object()) continue;
    added.members[parsed] = {addresses.value("addr", ""), addresses.value("api_addr", "")};
  }
}

// One member, following at most a few redirects to the leader.
Outcome ask(const std::string& member, const std::string& body, std::string& detail, JoinAnswer& added) {
  std::string address = member;
  for (int hop = 0; hop < 4; ++hop) {
    HttpClient client(address, HttpClientTimeouts{std::chrono::milliseconds(3000), std::chrono::milliseconds(15000)});
    absl::StatusOr<http::HttpResponse> response = client.request("POST", "/join", body);
    if (!response.ok()) {
      detail = std::string(response.status().message());
      return Outcome::kRetry;
    }
    if (response->status == 301 || response->status == 307) {
      const std::optional<std::string> location = header_value(*response, "Location");
      if (!location) break;
      address = host_port_of_url(*location);
      continue;
    }
    detail = absl::StrCat(address, ": ", error_of(*response));
    if (response->status == 200) {
      read_answer(nlohmann::json::parse(response->body, nullptr, false), added);
      return Outcome::kAdded;
    }
    // 400 and 409 "already a member" will not change by asking again; a
    // change in progress (409 membership_change_in_progress) will.
    if (response->status == 400) return Outcome::kRefused;
    if (response->status == 409 && absl::StrContains(response->body, "already_member")) return Outcome::kRefused;
    return Outcome::kRetry;
  }
  detail = absl::StrCat(member, ": too many redirects");
  return Outcome::kRetry;
}

}  // namespace

absl::Status join_cluster(const JoinRequest& request, const std::atomic<bool>& cancel, JoinAnswer& added) {
  const nlohmann::json body = {{"id", std::to_string(request.node_id)},
                               {"addr", request.raft_address},
                               {"api_addr", request.http_address},
                               {"voter", true}};
  const auto deadline = std::chrono::steady_clock::now() + request.deadline;
  std::string last_error = "no member to ask";
  while (!cancel.load()) {
    for (const std::string& member : request.members) {
      std::string detail;
      switch (ask(member, body.dump(), detail, added)) {
        case Outcome::kAdded: return absl::OkStatus();
        case Outcome::kRefused: return absl::FailedPreconditionError(detail);
        case Outcome::kRetry: last_error = detail; break;
      }
      if (cancel.load()) break;
    }
    if (std::chrono::steady_clock::now() + request.pause >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat("no member added this node in ", request.deadline.count(),
                                                      " ms; last answer: ", last_error));
    }
    std::this_thread::sleep_for(request.pause);
  }
  return absl::CancelledError("join cancelled");
}

}  // namespace reef::prod
