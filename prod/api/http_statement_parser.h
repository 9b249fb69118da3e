// rqlite's request bodies: a JSON array of statements, each either
//   "SQL"                                   no parameters
//   ["SQL", value, value, ...]              positional parameters
//   ["SQL", {"name": value, ...}]           named parameters (see http_named_params.h)
// (positional values and objects may be mixed in one array, as rqlite
// allows). Values: null, true/false (bound as 1/0), integers (int64;
// integers beyond int64 and numbers with a fraction or exponent are REAL,
// as in rqlite), strings (TEXT). Arrays and objects as values are refused.
//
// ReefDB also accepts string and array statements mixed in one body, which
// rqlite refuses; and, like rqlite, drops statements whose SQL is exactly
// "" (they produce no result entry). A bare JSON string body is refused, as
// rqlite does.
//
// Bounds: at most kMaxStatements statements, nesting at most kMaxJsonDepth
// deep (checked before parsing, so no hostile body can build a deep tree).
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "prod/api/http_errors.h"
#include "statemachine/statement_classifier.h"
#include "statemachine/value.h"

namespace reef::prod::http {

inline constexpr size_t kMaxJsonDepth = 16;

// kMalformedJson for text that is not JSON (or not UTF-8); kNoStatements for
// [] or a [] statement; kBadRequest for every other wrong shape, naming the
// statement (by index) and what is wrong with it.
ApiResult<std::vector<statemachine::Statement>> parse_statements_json(std::string_view body);

}  // namespace reef::prod::http
