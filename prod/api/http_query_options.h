// The URL query string of an API request: rqlite's options (`pretty`,
// `timings`, `associative`, `transaction`, `redirect`, `level`, `freshness`,
// `freshness_strict`, `timeout`, `q`, `blob_array`) and ReefDB's extensions
// (`min_index` for read-your-writes, `client_id` + `seq` for exactly-once).
//
// As in rqlite, flags count when present, whatever their value
// (`?pretty`, `?pretty=true` and `?pretty=0` all turn pretty-printing on),
// keys are case-sensitive, the first occurrence of a key wins, and unknown
// keys are ignored. Unlike rqlite, a value that means nothing (`level=quick`,
// `min_index=x`) is an error rather than a silent default: a typo in a
// consistency level should not quietly weaken a read.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "raft/driver/node_freshness.h"
#include "raft/ports/node_message.h"
#include "statemachine/command_batch.h"

namespace reef::prod::http {

// rqlite's read consistency levels, each served by the node request kind
// of the same name (raft/driver/node.h explains what each guarantees).
enum class ReadLevel { kNone, kWeak, kLinearizable, kStrong };

std::string_view read_level_name(ReadLevel level);
raft::RequestKind request_kind(ReadLevel level);

struct RequestOptions {
  bool pretty = false;
  bool timings = false;
  bool associative = false;
  bool transaction = false;
  bool redirect = false;    // answer "not leader" with 301 + Location instead of an error
  bool blob_array = false;  // BLOBs as arrays of byte values instead of base64
  ReadLevel level = ReadLevel::kWeak;
  std::optional<int64_t> freshness_ns;  // level none: refuse if out of touch with the leader this long
  bool freshness_strict = false;        // ... or if this node is behind the leader (needs freshness)
  std::optional<int64_t> timeout_ns;    // the request's deadline, from when the server got it
  uint64_t min_index = 0;               // serve reads only once this Raft index is applied (0: any)
  statemachine::CommandId command_id;   // client_id + seq; client_id 0: no exactly-once session
  std::optional<std::string> q;         // GET /db/query: the statement, trimmed
};

// The percent-decoded key/value pairs of a query string (without '?'), in
// order; '+' decodes to a space; a key without '=' has an empty value.
// INVALID_ARGUMENT for a bad %-escape or a ';' separator (Go refuses both).
absl::StatusOr<std::vector<std::pair<std::string, std::string>>> parse_query_string(std::string_view query);

// INVALID_ARGUMENT naming the parameter for: a bad query string, an unknown
// `level`, a duration that is not a Go duration, `freshness_strict` without
// `freshness`, `min_index`/`client_id`/`seq` that are not unsigned decimal
// integers, `client_id` without `seq` or the other way round, `client_id=0`,
// an empty `q`, or `queue` (queued writes are not supported).
absl::StatusOr<RequestOptions> parse_request_options(std::string_view query);

// The node's freshness bound for `freshness` (rounded up to whole
// milliseconds, the node clock's unit) and `freshness_strict`; nullopt
// without `freshness` or with a zero one (rqlite ignores `freshness=0`).
// The node applies it to level-none reads only, as rqlite does.
std::optional<raft::FreshnessBound> freshness_bound(const RequestOptions& options);

}  // namespace reef::prod::http
