#!/usr/bin/env bash
# HTTP write load on a local 3-node cluster (issue 6's benchmark).
#
# Starts `reefdb dev-cluster` (Release build) in a temporary directory, finds
# the leader, creates a table, and drives POST /db/execute on the leader with
# wrk: one parameterized INSERT of a 100-byte value per request, durable
# (acknowledged after a quorum fsynced it), at 1, 16 and 64 connections.
# Prints requests/s and latency p50/p90/p99 per row, then checks that the
# table holds at least as many rows as wrk counted successful requests.
#
# Usage: bench/http_load.sh
# Environment: DURATION (per row, default 10s), BASE_PORT (default 24001),
#              CONNECTIONS (default "1 16 64"; "64 64 64" shows how the
#              tail grows with the database), JOBS (build jobs, default 2),
#              KEEP=1 (keep the nodes' logs and data directories).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/bench_common.sh
build_reefdb_release

duration="${DURATION:-10s}"
base="${BASE_PORT:-24001}"
dir="$(mktemp -d /tmp/reefdb-bench.XXXXXX)"
build-release/bin/reefdb dev-cluster --dir "$dir" --base-port "$base" >"$dir/cluster.out" 2>&1 &
cluster=$!
cleanup() {
  kill -INT "$cluster" 2>/dev/null || true
  wait "$cluster" 2>/dev/null || true
  if [ -n "${KEEP:-}" ]; then echo "kept the cluster's directory: $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

leader=""
for _ in $(seq 1 200); do
  leader="$(curl -sf "http://127.0.0.1:$base/status" 2>/dev/null |
    python3 -c 'import json,sys; l=json.load(sys.stdin)["raft"]["leader"]; print(l["api_addr"] if l else "")' 2>/dev/null || true)"
  [ -n "$leader" ] && break
  sleep 0.1
done
if [ -z "$leader" ]; then
  echo "http_load: no leader after 20 s; cluster output:" >&2
  cat "$dir/cluster.out" "$dir"/node-*.log >&2
  exit 1
fi
curl -sf -XPOST "$leader/db/execute" -H 'Content-Type: application/json' \
  -d '["CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"]' >/dev/null

write_insert_script "$dir/insert.lua"

echo "reefdb HTTP load: 3 nodes on 127.0.0.1, POST /db/execute to the leader ($leader), $duration per row"
printf '%12s %12s %10s %10s %10s %10s\n' connections requests/s p50 p90 p99 errors
total_ok=0
for c in ${CONNECTIONS:-1 16 64}; do
  threads=$(( c < 2 ? 1 : 2 ))
  out="$(wrk -t "$threads" -c "$c" -d "$duration" --latency -s "$dir/insert.lua" "$leader/db/execute")"
  rps="$(awk '/Requests\/sec/ {print $2}' <<<"$out")"
  p50="$(awk '$1=="50%" {print $2}' <<<"$out")"
  p90="$(awk '$1=="90%" {print $2}' <<<"$out")"
  p99="$(awk '$1=="99%" {print $2}' <<<"$out")"
  requests="$(awk '/requests in/ {print $1}' <<<"$out")"
  errors="$(awk '/Non-2xx/ {print $5}' <<<"$out")"
  errors="${errors:-0}"
  total_ok=$(( total_ok + requests - errors ))
  printf '%12s %12s %10s %10s %10s %10s\n' "$c" "$rps" "$p50" "$p90" "$p99" "$errors"
done

rows="$(curl -sf -G "$leader/db/query?level=linearizable" --data-urlencode 'q=SELECT count(*) FROM bench' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["values"][0][0])')"
echo "rows in the table: $rows; successful requests counted by wrk: $total_ok"
if [ "$rows" -lt "$total_ok" ]; then
  echo "http_load: FEWER ROWS THAN ACKNOWLEDGED WRITES" >&2
  exit 1
fi
