#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: a seeded,
# randomised in-memory Raft cluster run that prints what happened and a
# trace hash (same seed, same hash). Arguments go to the program; see
#   scripts/run.sh --help
# Default: --seed 1 --nodes 3 --steps 3000.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "${JOBS:-2}" --target raft_cluster_demo >/dev/null
exec build/bin/raft_cluster_demo "$@"
