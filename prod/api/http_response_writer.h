// The back of the HTTP API: operation outcomes in, rqlite's JSON out.
//
//   {"results": [ <one entry per statement> ], "time": s, "raft_index": n, "duplicate": true}
//
// An entry is, as in rqlite (zero counts and empty lists left out, as Go's
// omitempty does):
//   a write         {"last_insert_id": n, "rows_affected": n}
//   rows            {"columns": [..], "types": [..], "values": [[..], ..]}
//   rows, associative  {"types": {col: type}, "rows": [{col: value}, ..]}
//   an error        {"error": "message", "code": "sql_error"}
// Any statement that returned rows (SELECT, or a write with RETURNING) gets
// the rows form, whatever the endpoint. With `associative`, /db/request
// write entries carry "rows": null, as rqlite's do. With `timings`, entries
// get "time" (seconds the operation that ran them took) and the response
// gets "time" (the whole request).
//
// A failed transaction (one atomic batch): entries up to the failed
// statement; the ones before it are "rolled_back" errors (nothing of the
// batch remains), the failed one carries the cause. rqlite lists the
// earlier statements' counts there although they were rolled back too.
//
// ReefDB additions: "code" next to every "error"; top-level "raft_index"
// (the highest log index a batch of this request was applied at) whenever
// a batch ran, without rqlite's `raft_index` flag; "duplicate": true when an
// exactly-once command had already been applied (the stored response is
// returned).
//
// Request errors are answered as {"error": ..., "code": ...} with the
// status http_errors.h gives the code.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "prod/api/http_api_request.h"
#include "prod/api/http_errors.h"
#include "prod/api/http_message.h"
#include "prod/api/http_query_options.h"

namespace reef::prod::http {

struct ResponseContext {
  double elapsed_seconds = 0;  // the whole request, for `timings`
  std::string target;          // the request target as received, for the redirect's Location
  // The leader's HTTP base address ("http://10.0.0.1:4001"; a bare
  // "host:port" gets "http://"), when this node knows it.
  std::optional<std::string> leader_http_address;
};

// One outcome per operation of `request`, in order (outcomes of kRefused
// operations are ignored). When no operation reached the node successfully
// and the first one failed for a request-level reason (not leader,
// unavailable, timeout, stale exactly-once sequence) the whole response is
// that error (write_not_leader() for "not leader"); otherwise 200 with the
// results.
HttpResponse write_results(const ApiRequest& request, const std::vector<OperationOutcome>& outcomes,
                           const ResponseContext& context);

HttpResponse write_error(const ApiError& error, bool pretty = false);

// This node cannot serve the request. No known leader: 503 no_leader.
// With `redirect`: 301, Location = leader address + original target.
// Otherwise 503 not_leader with the leader's address in "leader".
HttpResponse write_not_leader(const RequestOptions& options, const ResponseContext& context);

// The API error for a node status (raft::ClientResponse::status).
ApiError error_from_node_status(const absl::Status& status);

}  // namespace reef::prod::http
