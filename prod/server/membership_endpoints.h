// MembershipEndpoints: the HTTP API's membership part (docs/HTTP_API.md,
// "Cluster membership"; docs/CLUSTER.md), on the node loop:
//
//   GET    /nodes                      every member: addresses, role, reachability,
//                                      leadership; on the leader also match_index and lag
//   POST   /nodes/{id}/add?role=R      add node {id} at {"addr": raft, "api_addr": http}:
//                                      R=learner stays a learner, R=voter (default) is
//                                      promoted by the leader once caught up
//   POST   /nodes/{id}/promote         learner -> voter now
//   POST   /nodes/{id}/demote          voter -> learner
//   DELETE /nodes/{id}                 remove node {id}
//   POST   /nodes/change               several steps in one change (joint consensus),
//                                      {"changes": [{"op": "add-voter"|"add-learner"|"remove", "id": N}]}
//   POST   /join                       rqlite's: {"id": "4", "addr": "h:4002", "voter": true}
//                                      (plus ReefDB's optional "api_addr")
//   DELETE /remove                     rqlite's: {"id": "4"}
//
// Changes run on the leader (MembershipAdmin). A follower answers them with
// a redirect to the leader's same URL: 307 (method and body kept; curl -L
// follows it) for ReefDB's endpoints, 301 for rqlite's /join and /remove,
// which rqlite's joiners follow. No leader known: 503.
//
// Errors: 400 bad body or id, 404 not a member, 409 a change is already in
// flight / the node is already a member / nothing would change, 503 no
// leader or the leader is not ready (retry), 504 no answer in time.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "absl/strings/string_view.h"
#include "prod/api/http_message.h"
#include "prod/server/membership_admin.h"
#include "prod/server/server_node.h"

namespace reef::prod {

class MembershipEndpoints {
 public:
  using Respond = std::function<void(http::HttpResponse)>;

  // `node` and `admin` must outlive this.
  MembershipEndpoints(ServerNode& node, MembershipAdmin& admin) : node_(node), admin_(admin) {}

  // True when `path` is one of the endpoints above (then `respond` is, or
  // will be, called exactly once).
  bool handle(const http::HttpRequest& request, std::string_view path, Respond& respond);

  http::HttpResponse nodes() const;

 private:
  void list(const http::HttpRequest& request, Respond respond);
  void node_action(const http::HttpRequest& request, absl::string_view rest, Respond respond);
  void add(raft::NodeId id, const http::HttpRequest& request, absl::string_view role, Respond respond);
  void join(const http::HttpRequest& request, Respond respond);
  void remove(const http::HttpRequest& request, Respond respond);
  void change(const http::HttpRequest& request, Respond respond);
  // nullopt when this node leads; otherwise the redirect or 503 to answer.
  std::optional<http::HttpResponse> not_leader(const http::HttpRequest& request, int redirect_status) const;
  MembershipAdmin::Done answer(Respond respond) const;

  ServerNode& node_;
  MembershipAdmin& admin_;
};

}  // namespace reef::prod
