#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test:
#   1. the main build (build/, -O2) and every CTest suite except fuzzing;
#   2. one clang build (build-san/) with AddressSanitizer, UndefinedBehavior-
#      Sanitizer and libFuzzer coverage: the unit suites under the sanitizers
#      (all but the long swarms), then a bounded smoke run of every fuzz target.
#
# Usage: scripts/test.sh [--fast]
#   --fast   only step 1 (for the edit-compile-test loop)
# Environment: JOBS (parallel build and test jobs, default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

fast=0
for arg in "$@"; do
  case "$arg" in
    --fast) fast=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "test.sh: unknown argument '$arg' (try --help)" >&2; exit 2 ;;
  esac
done
jobs="${JOBS:-2}"

scripts/deps.sh
source scripts/build_config.sh

section() { printf '\n=== %s (%s) ===\n' "$1" "$(date -u +%H:%M:%S)"; }

section "build"
configure_main_build
cmake --build build -j "$jobs"
section "tests"
ctest --test-dir build --output-on-failure -j "$jobs" -LE fuzz

if [ "$fast" -eq 1 ]; then exit 0; fi

# clang at -O0 compiles the sanitizers two to three times faster than gcc
# (gcc's UBSan instrumentation doubles its compile time), and libFuzzer's
# coverage flags cost the unit tests little, so one tree serves both steps.
section "build (clang: address + undefined sanitizers, libFuzzer)"
cmake -S . -B build-san -G Ninja -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=Debug \
  -DCMAKE_CXX_FLAGS_DEBUG="-O0 -g1" -DREEF_SANITIZE=ON -DREEF_FUZZ=ON -DREEF_BUILD_BENCH=OFF >/dev/null
cmake --build build-san -j "$jobs"
section "tests under sanitizers"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir build-san --output-on-failure -j "$jobs" -LE "fuzz|swarm"
section "fuzz smoke"
ctest --test-dir build-san --output-on-failure -j "$jobs" -L fuzz
section "done"
