#include "prod/api/http_statement_parser.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"
#include "prod/api/http_named_params.h"

namespace reef::prod::http {
namespace {

using nlohmann::json;
using statemachine::Param;
using statemachine::Statement;
using statemachine::Value;

ApiError bad_request(std::string message) { return ApiError{ApiErrorCode::kBadRequest, std::move(message)}; }

// Deepest nesting of arrays/objects outside strings, stopping early once
// past the limit.
size_t json_depth(std::string_view body) {
  size_t depth = 0;
  size_t deepest = 0;
  bool in_string = false;
  for (size_t i = 0; i < body.size() && deepest <= kMaxJsonDepth; ++i) {
    const char c = body[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

// nlohmann's messages start with "[json.exception.parse_error.101] ".
std::string without_exception_tag(const char* what) {
  std::string_view text(what);
  if (!text.empty() && text.front() == '[') {
    const size_t end = text.find("] ");
    if (end != std::string_view::npos) text.remove_prefix(end + 2);
  }
  return std::string(text);
}

ApiResult<Value> parameter_value(const json& value, size_t statement, const std::string& where) {
  switch (value.type()) {
    case json::value_t::null: return Value(std::monostate{});
    case json::value_t::boolean: return Value(value.get<bool>());
    case json::value_t::number_integer: return Value(value.get<int64_t>());
    case json::value_t::number_unsigned: {
      const auto unsigned_value = value.get<uint64_t>();
      if (unsigned_value <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return Value(static_cast<int64_t>(unsigned_value));
      }
      return Value(static_cast<double>(unsigned_value));
    }
    case json::value_t::number_float: return Value(value.get<double>());
    case json::value_t::string: return Value(value.get<std::string>());
    default:
      return bad_request(absl::StrCat("statement ", statement, ", ", where, ": unsupported parameter type ",
                                      value.type_name(), " (use null, a boolean, a number or a string)"));
  }
}

ApiResult<Statement> parameterized_statement(const json& item, size_t index) {
  if (item.empty())
    return ApiError{ApiErrorCode::kNoStatements, absl::StrCat("statement ", index, " is empty")};
  if (!item[0].is_string()) {
    return bad_request(absl::StrCat("statement ", index, ": the first element must be the SQL string, not ",
                                    item[0].type_name()));
  }
  Statement statement{item[0].get<std::string>(), {}};
  const std::vector<std::string> sql_names = named_parameters_in(statement.sql);
  for (size_t i = 1; i < item.size(); ++i) {
    if (!item[i].is_object()) {
      auto value = parameter_value(item[i], index, absl::StrCat("parameter ", i));
      if (!value.ok()) return value.error();
      statement.params.push_back(Param{"", *std::move(value)});
      continue;
    }
    for (const auto& [key, named] : item[i].items()) {
      auto value = parameter_value(named, index, absl::StrCat("parameter \"", key, "\""));
      if (!value.ok()) return value.error();
      for (std::string& name : sql_names_for_key(key, sql_names)) {
        statement.params.push_back(Param{std::move(name), *value});
      }
    }
  }
  return statement;
}

ApiResult<std::vector<Statement>> statements_of(const json& root) {
  if (!root.is_array()) {
    return bad_request(absl::StrCat("the body must be a JSON array of statements, not ", root.type_name()));
  }
  if (root.empty()) return ApiError{ApiErrorCode::kNoStatements, "no statements"};
  if (root.size() > statemachine::kMaxStatements) {
    return bad_request(
        absl::StrCat(root.size(), " statements; at most ", statemachine::kMaxStatements, " per request"));
  }
  std::vector<Statement> statements;
  statements.reserve(root.size());
  for (size_t i = 0; i < root.size(); ++i) {
    const json& item = root[i];
    if (item.is_string()) {
      statements.push_back(Statement{item.get<std::string>(), {}});
    } else if (item.is_array()) {
      auto statement = parameterized_statement(item, i);
      if (!statement.ok()) return statement.error();
      statements.push_back(*std::move(statement));
    } else {
      return bad_request(
          absl::StrCat("statement ", i, " must be a string or an array, not ", item.type_name()));
    }
  }
  std::erase_if(statements, [](const Statement& s) { return s.sql.empty(); });
  return statements;
}

}  // namespace

ApiResult<std::vector<Statement>> parse_statements_json(std::string_view body) {
  if (json_depth(body) > kMaxJsonDepth) {
    return bad_request(absl::StrCat("JSON nested deeper than ", kMaxJsonDepth, " levels"));
  }
  json root;
  try {
    root = json::parse(body.begin(), body.end());
  } catch (const json::exception& e) {
    return ApiError{ApiErrorCode::kMalformedJson,
                    absl::StrCat("invalid JSON body: ", without_exception_tag(e.what()))};
  }
  return statements_of(root);
}

}  // namespace reef::prod::http
