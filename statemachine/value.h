// Typed SQL values as the state machine's API sees them: statement
// parameters going in, result cells coming out.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace reef::statemachine {

// Bytes that are a BLOB, not TEXT.
struct Blob {
  std::string bytes;
  friend bool operator==(const Blob&, const Blob&) = default;
};

// std::monostate is SQL NULL; std::string is TEXT (UTF-8). bool exists only
// for parameters (bound as 0/1): SQLite never returns it.
using Value = std::variant<std::monostate, int64_t, double, std::string, Blob, bool>;

// A statement parameter. An empty name is positional: the k-th positional
// parameter binds SQL parameter index k. A name includes its prefix exactly
// as written in the SQL (":id", "@id", "$id", "?3").
struct Param {
  std::string name;
  Value value;
  friend bool operator==(const Param&, const Param&) = default;
};

// One SQL statement (exactly one: trailing SQL is refused) and its parameters.
struct Statement {
  std::string sql;
  std::vector<Param> params;
  friend bool operator==(const Statement&, const Statement&) = default;
};

}  // namespace reef::statemachine
