// Limits and knobs of the SQL state machine, kept free of SQLite types so
// that users of sql_state_machine.h never see SQLite.
#pragma once

#include <cstddef>
#include <cstdint>

namespace reef::statemachine {

struct DatabaseOptions {
  size_t statement_cache_capacity = 256;          // per cache (apply, query, internal)
  int64_t max_value_bytes = 64 << 20;             // largest TEXT/BLOB/row (SQLITE_LIMIT_LENGTH)
  int64_t max_database_bytes = int64_t{8} << 30;  // the user's database grows no further (SQLITE_FULL)
  int64_t cache_kib = 64 << 10;                   // page cache per schema of an on-disk database
  int64_t reader_cache_kib = 8 << 10;             // the same, per schema of each reader connection
};

struct SessionOptions {
  int64_t ttl_ms = 60 * 60 * 1000;  // idle sessions expire after this (leader time)
  uint64_t max_sessions = 100'000;  // least recently active evicted beyond this
};

}  // namespace reef::statemachine
