#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: a short swarm of
# the deterministic simulator — real ReefDB nodes (Raft core, driver, storage,
# SQL state machine) under crashes, pauses, partitions, lossy links, disk
# errors and clock drift, every run checked for safety, linearizability,
# durability and liveness — and prints its summary.
#
# Usage: scripts/run.sh [reef-sim arguments]
#   no arguments     reef-sim swarm --seeds 1..100 --jobs $JOBS
#   anything else    passed to reef-sim as is, e.g.
#                      scripts/run.sh run --seed 42
#                      scripts/run.sh swarm --seeds 1..1000 --bug lying-fsync
#                      scripts/run.sh --help
# Environment: JOBS (parallel build jobs and swarm processes, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs" --target reef_sim_tool >/dev/null
if [ "$#" -eq 0 ]; then
  set -- swarm --seeds 1..100 --jobs "$jobs"
fi
exec build/bin/reef-sim "$@"
