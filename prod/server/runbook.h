// Where the server's refusals send the operator: sections of docs/CLUSTER.md,
// named once so every message points to the same place.
#pragma once

namespace reef::prod {

// A node whose id is taken, retired, or whose data directory was wiped:
// remove it and add a fresh node under a new id.
inline constexpr char kReplaceNodeRunbook[] = "docs/CLUSTER.md#replacing-a-dead-machine";

}  // namespace reef::prod
