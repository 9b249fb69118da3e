#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the normal build (RelWithDebInfo) and all CTest suites;
#   2. an AddressSanitizer + UndefinedBehaviorSanitizer build and its suites;
#   3. a clang libFuzzer build and a bounded smoke run of every fuzz target.
#
# Usage: scripts/test.sh [--fast]
#   --fast   only step 1 (for the edit-compile-test loop)
# Environment: JOBS (parallel build jobs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
jobs="${JOBS:-2}"

scripts/deps.sh

section() { printf '\n=== %s ===\n' "$1"; }

section "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$jobs"
section "tests"
ctest --test-dir build --output-on-failure -j "$jobs" -LE fuzz

if [ "$fast" -eq 1 ]; then exit 0; fi

section "build (address + undefined sanitizers)"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DREEF_SANITIZE=ON -DREEF_BUILD_BENCH=OFF >/dev/null
cmake --build build-asan -j "$jobs"
section "tests under sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE "fuzz|swarm"

section "build (clang libFuzzer)"
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DREEF_FUZZ=ON \
  -DCMAKE_CXX_COMPILER=clang++-14 -DREEF_BUILD_BENCH=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target reef_fuzzers
section "fuzz smoke"
ctest --test-dir build-fuzz --output-on-failure -L fuzz
