#include "prod/server/membership_endpoints.h"

#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"
#include "prod/api/http_query_options.h"
#include "prod/api/http_response_writer.h"
#include "raft/core/progress.h"

namespace reef::prod {
namespace {

http::HttpResponse json_response(int status, const nlohmann::json& body) {
  http::HttpResponse response;
  response.status = status;
  response.body = body.dump(2) + "\n";
  return response;
}

http::HttpResponse error(int status, absl::string_view code, absl::string_view message) {
  return json_response(status, {{"error", std::string(message)}, {"code", std::string(code)}});
}

http::HttpResponse method_not_allowed(const char* allow) {
  http::HttpResponse response = error(405, "method_not_allowed", absl::StrCat("use ", allow));
  response.headers.emplace_back("Allow", allow);
  return response;
}

http::HttpResponse bad_request(absl::string_view message) { return error(400, "bad_request", message); }

// A failed change, by what the node or the core said.
http::HttpResponse failure(const absl::Status& status) {
  const std::string message(status.message());
  if (raft::is_not_leader(status)) return error(503, "not_leader", message);
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return error(400, "bad_request", message);
    case absl::StatusCode::kNotFound: return error(404, "not_a_member", message);
    case absl::StatusCode::kAlreadyExists: return error(409, "already_member", message);
    case absl::StatusCode::kFailedPrecondition: return error(409, "membership_change_in_progress", message);
    case absl::StatusCode::kDeadlineExceeded: return error(504, "timeout", message);
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kResourceExhausted: return error(503, "unavailable", message);
    default: return error(500, "internal", message);
  }
}

// A node id as rqlite sends it (a string) or as a number; ReefDB's ids are
// positive integers.
std::optional<raft::NodeId> parse_id(const nlohmann::json& value) {
  uint64_t id = 0;
  if (value.is_number_unsigned()) {
    id = value.get<uint64_t>();
  } else if (!value.is_string() || !absl::SimpleAtoi(value.get<std::string>(), &id)) {
    return std::nullopt;
  }
  if (id == 0) return std::nullopt;
  return raft::NodeId(id);
}

std::optional<raft::NodeId> parse_id(absl::string_view text) {
  uint64_t id = 0;
  if (!absl::SimpleAtoi(text, &id) || id == 0) return std::nullopt;
  return raft::NodeId(id);
}

constexpr absl::string_view kIdRule = "node ids are positive integers (rqlite's string ids must be numeric: \"4\")";

// The body as a JSON object, or the 400 to answer.
std::optional<http::HttpResponse> parse_body(const http::HttpRequest& request, nlohmann::json& body) {
  body = nlohmann::json::parse(request.body, nullptr, false);
  if (body.is_discarded()) return bad_request("the body is not JSON");
  if (!body.is_object()) return bad_request("the body must be a JSON object");
  return std::nullopt;
}

// The body and its required "id" (rqlite's /join and /remove).
std::optional<http::HttpResponse> parse_body_with_id(const http::HttpRequest& request, nlohmann::json& body,
                                                     raft::NodeId& id) {
  if (auto bad = parse_body(request, body)) return bad;
  if (!body.contains("id")) return bad_request("\"id\" is required");
  const std::optional<raft::NodeId> parsed = parse_id(body["id"]);
  if (!parsed) return bad_request(absl::StrCat("id ", body["id"].dump(), ": ", kIdRule));
  id = *parsed;
  return std::nullopt;
}

std::optional<std::string> string_field(const nlohmann::json& body, const char* name) {
  if (!body.contains(name) || !body[name].is_string()) return std::nullopt;
  return body[name].get<std::string>();
}

absl::string_view query_of(const std::string& target) {
  const size_t query = target.find('?');
  return query == std::string::npos ? absl::string_view() : absl::string_view(target).substr(query + 1);
}

const char* role_of(const raft::Configuration& configuration, raft::NodeId id) {
  if (configuration.voters.contains(id)) return "voter";
  if (configuration.outgoing_voters.contains(id)) return "outgoing-voter";
  return "learner";
}

}  // namespace

bool MembershipEndpoints::handle(const http::HttpRequest& request, std::string_view whole_path, Respond& respond) {
  const absl::string_view path(whole_path.data(), whole_path.size());
  if (absl::StartsWith(path, "/nodes/") && path != "/nodes/change") {
    node_action(request, path.substr(7), std::move(respond));
    return true;
  }
  // The fixed paths, each with its one method.
  struct Route {
    absl::string_view path;
    const char* method;
    void (MembershipEndpoints::*run)(const http::HttpRequest&, Respond);
  };
  static constexpr Route kRoutes[] = {{"/nodes", "GET", &MembershipEndpoints::list},
                                      {"/join", "POST", &MembershipEndpoints::join},
                                      {"/remove", "DELETE", &MembershipEndpoints::remove},
                                      {"/nodes/change", "POST", &MembershipEndpoints::change}};
  for (const Route& route : kRoutes) {
    if (path != route.path) continue;
    if (request.method != route.method) {
      respond(method_not_allowed(route.method));
    } else {
      (this->*route.run)(request, std::move(respond));
    }
    return true;
  }
  return false;
}

void MembershipEndpoints::list(const http::HttpRequest&, Respond respond) { respond(nodes()); }

// /nodes/{id}, /nodes/{id}/add, /nodes/{id}/promote, /nodes/{id}/demote.
void MembershipEndpoints::node_action(const http::HttpRequest& request, absl::string_view rest, Respond respond) {
  const std::vector<absl::string_view> parts = absl::StrSplit(rest, '/');
  const std::optional<raft::NodeId> id = parse_id(parts[0]);
  if (!id) return respond(bad_request(absl::StrCat("\"", parts[0], "\": ", kIdRule)));
  const absl::string_view action = parts.size() > 1 ? parts[1] : "";
  const bool known = parts.size() <= 2 && (action.empty() || action == "add" || action == "promote" || action == "demote");
  if (!known) return respond(error(404, "not_found", absl::StrCat("no such endpoint: /nodes/", rest)));
  const char* method = action.empty() ? "DELETE" : "POST";
  if (request.method != method) return respond(method_not_allowed(method));
  if (auto redirect = not_leader(request, 307)) return respond(*std::move(redirect));
  if (action.empty()) return admin_.remove(*id, answer(std::move(respond)));
  if (action == "promote") return admin_.promote(*id, answer(std::move(respond)));
  if (action == "demote") return admin_.demote(*id, answer(std::move(respond)));
  std::string role = "voter";
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> query =
      http::parse_query_string(std::string(query_of(request.target)));
  if (!query.ok()) return respond(bad_request(query.status().message()));
  for (const auto& [key, value] : *query) {
    if (key == "role") role = value;
  }
  add(*id, request, role, std::move(respond));
}

void MembershipEndpoints::add(raft::NodeId id, const http::HttpRequest& request, absl::string_view role,
                              Respond respond) {
  if (role != "voter" && role != "learner") {
    return respond(bad_request(absl::StrCat("role must be voter or learner (got \"", role, "\")")));
  }
  nlohmann::json body;
  if (auto bad = parse_body(request, body)) return respond(*std::move(bad));
  const std::optional<std::string> raft_address = string_field(body, "addr");
  if (!raft_address || raft_address->empty()) {
    return respond(bad_request("\"addr\" (the node's raft host:port) is required"));
  }
  MemberAddresses addresses{*raft_address, string_field(body, "api_addr").value_or(""), role == "voter"};
  admin_.add(id, std::move(addresses), answer(std::move(respond)));
}

// rqlite: {"id": "4", "addr": "host:4002", "voter": true}. ReefDB adds the
// node as a learner and promotes it once caught up when voter is true (the
// default, as in rqlite).
void MembershipEndpoints::join(const http::HttpRequest& request, Respond respond) {
  nlohmann::json body;
  raft::NodeId id;
  if (auto bad = parse_body_with_id(request, body, id)) return respond(*std::move(bad));
  const std::optional<std::string> raft_address = string_field(body, "addr");
  if (!raft_address || raft_address->empty()) {
    return respond(bad_request("\"addr\" (the node's raft host:port) is required"));
  }
  if (body.contains("voter") && !body["voter"].is_boolean()) return respond(bad_request("\"voter\" must be true or false"));
  if (auto redirect = not_leader(request, 301)) return respond(*std::move(redirect));
  MemberAddresses addresses{*raft_address, string_field(body, "api_addr").value_or(""), body.value("voter", true)};
  // The joiner also gets every member's addresses: it must answer the
  // leader before it can apply their rows from the log.
  admin_.add(id, std::move(addresses), [this, respond = std::move(respond)](absl::StatusOr<std::string> result) {
    if (!result.ok()) return respond(failure(result.status()));
    nlohmann::json nodes = nlohmann::json::object();
    for (const auto& [member, known] : node_.addresses().all()) {
      nodes[std::to_string(member.value())] = {{"addr", known.raft_address}, {"api_addr", known.http_address}};
    }
    respond(json_response(200, {{"configuration", *result}, {"nodes", nodes}}));
  });
}

// rqlite: {"id": "4"}.
void MembershipEndpoints::remove(const http::HttpRequest& request, Respond respond) {
  nlohmann::json body;
  raft::NodeId id;
  if (auto bad = parse_body_with_id(request, body, id)) return respond(*std::move(bad));
  if (auto redirect = not_leader(request, 301)) return respond(*std::move(redirect));
  admin_.remove(id, answer(std::move(respond)));
}

// {"changes": [{"op": "add-voter", "id": 4}, {"op": "remove", "id": 2}]}:
// applied together, through a joint configuration when more than one voter
// changes. Nodes brought in must already be learners (their addresses are
// known then): replace a dead voter by a caught-up learner in one step.
void MembershipEndpoints::change(const http::HttpRequest& request, Respond respond) {
  nlohmann::json body;
  if (auto bad = parse_body(request, body)) return respond(*std::move(bad));
  if (!body.contains("changes") || !body["changes"].is_array() || body["changes"].empty()) {
    return respond(bad_request("\"changes\" must be a non-empty array of {\"op\": ..., \"id\": ...}"));
  }
  std::vector<raft::MembershipChange> steps;
  for (const nlohmann::json& item : body["changes"]) {
    if (!item.is_object() || !item.contains("op") || !item.contains("id")) {
      return respond(bad_request("each change is {\"op\": \"add-voter\"|\"add-learner\"|\"remove\", \"id\": N}"));
    }
    const std::optional<raft::NodeId> id = parse_id(item["id"]);
    if (!id) return respond(bad_request(absl::StrCat("id ", item["id"].dump(), ": ", kIdRule)));
    const std::string op = item["op"].is_string() ? item["op"].get<std::string>() : "";
    raft::MembershipOp parsed;
    if (op == "add-voter") {
      parsed = raft::MembershipOp::kAddVoter;
    } else if (op == "add-learner") {
      parsed = raft::MembershipOp::kAddLearner;
    } else if (op == "remove") {
      parsed = raft::MembershipOp::kRemove;
    } else {
      return respond(bad_request(absl::StrCat("op ", item["op"].dump(), ": use add-voter, add-learner or remove")));
    }
    const std::optional<MemberAddresses> known = node_.addresses().find(*id);
    if (parsed != raft::MembershipOp::kRemove && known && known->removed) {
      return respond(error(409, "already_member", absl::StrCat("node ", id->value(),
                                                               " was removed and its id is retired; use a new id (see ",
                                                               kReplaceNodeRunbook, ")")));
    }
    if (parsed != raft::MembershipOp::kRemove && !known) {
      return respond(bad_request(absl::StrCat("node ", id->value(),
                                              ": no address known; add it first (POST /nodes/", id->value(),
                                              "/add?role=learner)")));
    }
    steps.push_back(raft::MembershipChange{parsed, *id});
  }
  if (auto redirect = not_leader(request, 307)) return respond(*std::move(redirect));
  admin_.change(std::move(steps), answer(std::move(respond)));
}

std::optional<http::HttpResponse> MembershipEndpoints::not_leader(const http::HttpRequest& request,
                                                                  int redirect_status) const {
  if (node_.core().is_leader()) return std::nullopt;
  const std::optional<raft::NodeId> leader = node_.core().leader();
  if (!leader) return error(503, "no_leader", "no leader is known; retry shortly");
  const std::optional<std::string> url = node_.addresses().http_url(*leader);
  if (!url) {
    return error(503, "not_leader", absl::StrCat("node ", leader->value(), " leads, at an unknown HTTP address"));
  }
  http::HttpResponse response = error(redirect_status, "not_leader", absl::StrCat("node ", leader->value(), " leads"));
  response.headers.emplace_back("Location", *url + request.target);
  return response;
}

MembershipAdmin::Done MembershipEndpoints::answer(Respond respond) const {
  return [respond = std::move(respond)](absl::StatusOr<std::string> result) {
    if (!result.ok()) return respond(failure(result.status()));
    respond(json_response(200, {{"configuration", *result}}));
  };
}

// rqlite's shape (a map by id with api_addr, addr, voter, reachable,
// leader), plus role and, on the leader, match_index and lag. A follower
// has no replication progress: those are null there, and so is
// reachability of the members other than itself and the leader.
http::HttpResponse MembershipEndpoints::nodes() const {
  const raft::Core& core = node_.core();
  const raft::Configuration& configuration = core.configuration();
  const raft::Index last = core.log().last_index();
  const raft::NodeStatus status = node_.status();
  nlohmann::json nodes = nlohmann::json::object();
  for (raft::NodeId id : configuration.members()) {
    const std::optional<MemberAddresses> addresses = node_.addresses().find(id);
    nlohmann::json entry = {{"id", std::to_string(id.value())},
                            {"api_addr", addresses && !addresses->http_address.empty()
                                             ? nlohmann::json(absl::StrCat("http://", addresses->http_address))
                                             : nlohmann::json("")},
                            {"addr", addresses ? addresses->raft_address : ""},
                            {"voter", configuration.is_voter(id)},
                            {"role", role_of(configuration, id)},
                            {"leader", status.leader == id},
                            {"reachable", nullptr},
                            {"match_index", nullptr},
                            {"lag", nullptr}};
    if (id == node_.id()) {
      entry["reachable"] = true;
      entry["match_index"] = last.value();
      if (core.is_leader()) entry["lag"] = 0;
    } else if (core.is_leader()) {
      if (const raft::Progress* progress = core.progress(id)) {
        entry["reachable"] = progress->recent_active || progress->state() == raft::ProgressState::kReplicate;
        entry["match_index"] = progress->match().value();
        entry["lag"] = last.value() - std::min(last.value(), progress->match().value());
      }
    } else if (status.leader == id) {
      entry["reachable"] = true;
    }
    nodes[std::to_string(id.value())] = std::move(entry);
  }
  return json_response(200, nodes);
}

}  // namespace reef::prod
