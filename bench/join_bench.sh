#!/usr/bin/env bash
# A new node joins a cluster holding a large database (issue 15's benchmark).
#
# Starts one `reefdb serve --data-dir` node (Release build) in a temporary
# directory, loads about DB_MB MiB into a table (1 KiB random blobs, 10,000
# rows per request), then measures durable write throughput with wrk on the
# leader twice: for DURATION with the node alone, and for DURATION while a
# second node, started with `--join`, catches up (by snapshot and log) and is
# promoted to voter. Prints the database size, when the joiner became a
# learner and a voter (seconds after it was started), the throughput of both
# phases and their ratio, and checks that the joiner ends with every row.
#
# Usage: bench/join_bench.sh
# Environment: DB_MB (default 100), DURATION (per phase, default 20s),
#              CONNECTIONS (wrk connections, default 16), BASE_PORT
#              (default 25001), JOBS (build jobs, default 2), KEEP (1: keep
#              the directory with both nodes' logs and data).
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/bench_common.sh
build_reefdb_release

db_mb="${DB_MB:-100}"
duration="${DURATION:-20s}"
connections="${CONNECTIONS:-16}"
base="${BASE_PORT:-25001}"
reefdb="$PWD/build-release/bin/reefdb"
dir="$(mktemp -d /tmp/reefdb-join-bench.XXXXXX)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $dir"; else rm -rf "$dir"; fi
}
trap cleanup EXIT

api1="127.0.0.1:$base"
api2="127.0.0.1:$((base + 2))"
"$reefdb" serve --data-dir "$dir/n1" --http-listen-address "$api1" \
  --raft-listen-address "127.0.0.1:$((base + 1))" >"$dir/n1.log" 2>&1 &
pids+=($!)

json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
now() { date +%s.%N; }
execute() {
  curl -sf -XPOST "http://$api1/db/execute?timeout=120s" -H 'Content-Type: application/json' -d "$1" >/dev/null
}

for _ in $(seq 1 200); do
  curl -sf "http://$api1/db/execute" -XPOST -H 'Content-Type: application/json' -d '[]' >/dev/null 2>&1 && break
  sleep 0.1
done
execute '["CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB NOT NULL)", "CREATE TABLE bench (id INTEGER PRIMARY KEY, v TEXT NOT NULL)"]'
rows_per_request=10000
requests=$(( db_mb * 1024 / rows_per_request + 1 ))
load_start="$(now)"
for _ in $(seq 1 "$requests"); do
  execute "[\"WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < $rows_per_request) INSERT INTO blobs(v) SELECT randomblob(1024) FROM n\"]"
done
load_s="$(python3 -c "print(f'{$(now) - $load_start:.1f}')")"
query() {
  curl -sf -G "http://$1/db/query?level=none" --data-urlencode "q=$2" | json 'd["results"][0]["values"][0][0]'
}
blob_bytes="$(query "$api1" 'SELECT sum(length(v)) FROM blobs')"
echo "reefdb join: $(( blob_bytes / 1048576 )) MiB of blobs loaded in ${load_s} s on node 1 alone"

write_insert_script "$dir/insert.lua"
load() {
  wrk -t 2 -c "$connections" -d "$duration" -s "$dir/insert.lua" "http://$api1/db/execute" |
    awk '/Requests\/sec/ {print $2}'
}

alone="$(load)"

join_start="$(now)"
"$reefdb" serve --node-id 2 --data-dir "$dir/n2" --join "$api1" --http-listen-address "$api2" \
  --raft-listen-address "127.0.0.1:$((base + 3))" >"$dir/n2.log" 2>&1 &
pids+=($!)
role_file="$dir/roles"
(
  learner="" voter=""
  while [ -z "$voter" ]; do
    role="$(curl -sf "http://$api1/nodes" 2>/dev/null | json 'd.get("2", {}).get("role", "")' 2>/dev/null || true)"
    t="$(python3 -c "print(f'{$(now) - $join_start:.2f}')")"
    if [ -n "$role" ] && [ -z "$learner" ]; then learner="$t"; fi
    if [ "$role" = "voter" ]; then voter="$t"; fi
    sleep 0.1
  done
  echo "$learner $voter" >"$role_file"
) &
watcher=$!
during="$(load)"
wait "$watcher" || true
read -r learner_s voter_s <"$role_file" || true

echo "node 2 started with --join: a learner after ${learner_s:-?} s, a voter after ${voter_s:-?} s"
printf '%-34s %12s\n' "phase ($connections connections, $duration)" "writes/s"
printf '%-34s %12s\n' "node 1 alone" "$alone"
printf '%-34s %12s\n' "while node 2 joins and catches up" "$during"
python3 -c "print(f'ratio (joining / alone): {float(\"$during\") / float(\"$alone\"):.2f}')"

# The joiner holds every row once it has caught up.
want="$(query "$api1" 'SELECT count(*) FROM bench')"
for _ in $(seq 1 300); do
  have="$(query "$api2" 'SELECT count(*) FROM bench' 2>/dev/null || echo 0)"
  [ "$have" = "$want" ] && break
  sleep 0.1
done
blobs2="$(query "$api2" 'SELECT sum(length(v)) FROM blobs')"
echo "node 2 holds $have of $want bench rows and $(( blobs2 / 1048576 )) MiB of blobs"
if [ "$have" != "$want" ] || [ "$blobs2" != "$blob_bytes" ]; then
  echo "join_bench: THE NEW NODE DOES NOT HOLD EVERY ROW" >&2
  exit 1
fi
