#!/usr/bin/env bash
# Installs the Debian 12 packages ReefDB builds and tests with.
# Idempotent and fast when everything is present: it asks dpkg first and only
# calls apt-get for what is missing. Needs root (or sudo) only when it installs.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  clang-14 libclang-rt-14-dev           # libFuzzer + sanitizer runtimes
  libabsl-dev
  libflatbuffers-dev flatbuffers-compiler
  libgtest-dev libgmock-dev librapidcheck-dev libbenchmark-dev
  libxxhash-dev libsqlite3-dev
  libboost-dev libssl-dev
  libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev
  curl wrk                              # bench/http_load.sh, README examples
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "deps.sh: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
