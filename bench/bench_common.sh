# Shared by the bench/*.sh scripts (sourced, not run): the release build of
# reefdb they measure, and the wrk script of the insert load they apply.

# Installs what is missing and builds build-release/bin/reefdb (-O3, no
# ccache). JOBS: build jobs (default 2). Run from the repository root.
build_reefdb_release() {
  scripts/deps.sh
  cmake -S . -B build-release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build build-release -j "${JOBS:-2}" --target reefdb >/dev/null
}

# Writes to $1 a wrk script that POSTs one parameterized INSERT of a
# 100-byte text into table bench(v) per request.
write_insert_script() {
  local value
  value="$(printf 'v%.0s' $(seq 1 100))"
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '[["INSERT INTO bench(v) VALUES(?)", "$value"]]'
LUA
}
