// Go duration strings ("500ms", "1.5s", "1m30s", "2h"), the form rqlite uses
// for `timeout` and `freshness`, parsed exactly as Go's time.ParseDuration
// does except that negative durations are refused (no option here means
// anything by one).
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"

namespace reef::prod::http {

// Nanoseconds. Units: ns, us (also µs, μs), ms, s, m, h; each number may
// have a fraction; "0" alone is zero. INVALID_ARGUMENT for anything else,
// a leading '-', or a value above INT64_MAX nanoseconds (~292 years).
absl::StatusOr<int64_t> parse_go_duration(std::string_view text);

}  // namespace reef::prod::http
