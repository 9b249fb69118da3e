#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: a local 3-node
# ReefDB cluster (`reefdb dev-cluster`) on 127.0.0.1 — real processes, real
# sockets, data in ./reefdb-dev — and prints its endpoints and how to connect
# (`build/bin/reefdb sql` in another terminal). A node that exits is reported
# and the others keep running; type `restart N` to bring it back. Ctrl-C
# stops every node.
#
# Usage: scripts/run.sh [reefdb dev-cluster arguments]
#   no arguments     reefdb dev-cluster --nodes 3 --dir ./reefdb-dev
#   e.g.             scripts/run.sh --nodes 5 --base-port 5001
#                    scripts/run.sh --help
# The simulator has its own command (README, "Simulator"):
#   build/bin/reef-sim swarm --seeds 1..100 --jobs 2
# Environment: JOBS (parallel build jobs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"
scripts/deps.sh
source scripts/build_config.sh
configure_main_build
cmake --build build -j "$jobs" --target reefdb reef_sim_tool >/dev/null
if [ "$#" -eq 0 ]; then
  set -- --nodes 3 --dir ./reefdb-dev
fi
exec build/bin/reefdb dev-cluster "$@"
