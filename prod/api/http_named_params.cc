#include "prod/api/http_named_params.h"

#include <algorithm>
#include <cstddef>

namespace reef::prod::http {
namespace {

bool is_identifier_char(char c) {
  const auto u = static_cast<unsigned char>(c);
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
         u >= 0x80;
}

// Index just past a quoted run that starts at `start` with `open` and ends
// with `close`; a doubled closing quote is an escape (not for ']').
size_t skip_quoted(std::string_view sql, size_t start, char close) {
  size_t i = start + 1;
  while (i < sql.size()) {
    if (sql[i] != close) {
      ++i;
    } else if (close != ']' && i + 1 < sql.size() && sql[i + 1] == close) {
      i += 2;
    } else {
      return i + 1;
    }
  }
  return sql.size();
}

size_t skip_line_comment(std::string_view sql, size_t start) {
  const size_t end = sql.find('\n', start);
  return end == std::string_view::npos ? sql.size() : end + 1;
}

size_t skip_block_comment(std::string_view sql, size_t start) {
  const size_t end = sql.find("*/", start + 2);
  return end == std::string_view::npos ? sql.size() : end + 2;
}

}  // namespace

std::vector<std::string> named_parameters_in(std::string_view sql) {
  std::vector<std::string> names;
  size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (c == '\'' || c == '"' || c == '`') {
      i = skip_quoted(sql, i, c);
    } else if (c == '[') {
      i = skip_quoted(sql, i, ']');
    } else if (c == '-' && next == '-') {
      i = skip_line_comment(sql, i);
    } else if (c == '/' && next == '*') {
      i = skip_block_comment(sql, i);
    } else if ((c == ':' || c == '@' || c == '$') && is_identifier_char(next)) {
      size_t end = i + 1;
      while (end < sql.size() && is_identifier_char(sql[end])) ++end;
      std::string name(sql.substr(i, end - i));
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(std::move(name));
      i = end;
    } else if (is_identifier_char(c)) {
      // A whole identifier or number: a '$' inside it is not a parameter.
      while (i < sql.size() && is_identifier_char(sql[i])) ++i;
    } else {
      ++i;
    }
  }
  return names;
}

std::vector<std::string> sql_names_for_key(std::string_view key, const std::vector<std::string>& sql_names) {
  if (!key.empty() && (key[0] == ':' || key[0] == '@' || key[0] == '$' || key[0] == '?')) {
    return {std::string(key)};
  }
  std::vector<std::string> matches;
  for (const std::string& name : sql_names) {
    if (std::string_view(name).substr(1) == key) matches.push_back(name);
  }
  if (matches.empty()) {
    // Built by append: g++ 12 at -O3 reports a false -Wrestrict for
    // std::string(":") + std::string(key).
    std::string name = ":";
    name.append(key);
    matches.push_back(std::move(name));
  }
  return matches;
}

}  // namespace reef::prod::http
