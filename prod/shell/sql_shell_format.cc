#include "prod/shell/sql_shell_format.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <utility>

#include "absl/strings/str_cat.h"

namespace reef::prod {
namespace {

// Code points, not bytes, so non-ASCII text lines up (wide characters
// still do not; a terminal-width table is more than this shell needs).
size_t display_width(const std::string& text) {
  return static_cast<size_t>(
      std::count_if(text.begin(), text.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

std::string escape_controls(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7F) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02X", byte);
      out += hex;
    } else {
      out += c;
    }
  }
  return out;
}

std::string separator_line(const std::vector<size_t>& widths) {
  std::string line = "+";
  for (const size_t width : widths) line += std::string(width + 2, '-') + "+";
  return line + "\n";
}

std::string row_line(const std::vector<std::string>& cells, const std::vector<size_t>& widths) {
  std::string line = "|";
  for (size_t i = 0; i < widths.size(); ++i) {
    const std::string cell = i < cells.size() ? cells[i] : "";
    line += " " + cell + std::string(widths[i] - display_width(cell), ' ') + " |";
  }
  return line + "\n";
}

std::string format_rows(const nlohmann::json& entry) {
  std::vector<std::string> columns;
  for (const nlohmann::json& column : entry["columns"]) {
    columns.push_back(column.is_string() ? column.get<std::string>() : column.dump());
  }
  std::vector<std::vector<std::string>> rows;
  const auto values = entry.find("values");
  if (values != entry.end() && values->is_array()) {
    for (const nlohmann::json& row : *values) {
      std::vector<std::string> cells;
      if (row.is_array()) {
        for (const nlohmann::json& value : row) cells.push_back(format_cell(value));
      }
      rows.push_back(std::move(cells));
    }
  }
  return format_table(columns, rows);
}

std::string format_counts(const nlohmann::json& entry) {
  const int64_t affected = entry.value("rows_affected", int64_t{0});
  std::string line = absl::StrCat(affected, affected == 1 ? " row" : " rows", " affected");
  if (const auto id = entry.find("last_insert_id"); id != entry.end() && id->is_number_integer()) {
    absl::StrAppend(&line, ", last insert id ", id->get<int64_t>());
  }
  return line + "\n";
}

std::string text_of(const nlohmann::json& value) { return value.is_string() ? value.get<std::string>() : value.dump(); }

}  // namespace

std::string format_table(const std::vector<std::string>& columns, const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::string> header;
  for (const std::string& column : columns) header.push_back(escape_controls(column));
  std::vector<size_t> widths;
  for (const std::string& column : header) widths.push_back(display_width(column));
  for (const std::vector<std::string>& row : rows) {
    for (size_t i = 0; i < std::min(row.size(), widths.size()); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  const std::string separator = separator_line(widths);
  std::string out = separator + row_line(header, widths) + separator;
  for (const std::vector<std::string>& row : rows) out += row_line(row, widths);
  return out + separator;
}

std::string format_cell(const nlohmann::json& value) {
  if (value.is_null()) return "NULL";
  if (value.is_string()) return escape_controls(value.get<std::string>());
  return escape_controls(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string format_result(const nlohmann::json& entry) {
  if (!entry.is_object()) return entry.dump() + "\n";
  if (const auto error = entry.find("error"); error != entry.end()) {
    std::string line = "error: " + text_of(*error);
    if (const auto code = entry.find("code"); code != entry.end()) line += " (" + text_of(*code) + ")";
    return line + "\n";
  }
  if (const auto columns = entry.find("columns"); columns != entry.end() && columns->is_array()) {
    return format_rows(entry);
  }
  if (entry.contains("rows_affected") || entry.contains("last_insert_id") || entry.empty()) return format_counts(entry);
  return entry.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string format_error_response(int status, const std::string& body) {
  return absl::StrCat("error: ", describe_error_response(status, body), "\n");
}

std::string describe_error_response(int status, const std::string& body) {
  const nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  std::string message;
  std::string code;
  if (parsed.is_object() && parsed.contains("error")) {
    message = text_of(parsed["error"]);
    if (parsed.contains("code")) code = text_of(parsed["code"]) + ", ";
  } else {
    message = body.empty() ? "(empty answer)" : escape_controls(body.substr(0, 200));
  }
  while (!message.empty() && message.back() == '\n') message.pop_back();
  return absl::StrCat(message, " (", code, "HTTP ", status, ")");
}

std::string format_nodes(const nlohmann::json& nodes) {
  std::vector<std::pair<std::string, const nlohmann::json*>> ordered;
  if (nodes.is_object()) {
    for (const auto& [id, node] : nodes.items()) ordered.emplace_back(id, &node);
  }
  // Numeric order for numeric ids ("2" before "10").
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return std::pair(a.first.size(), a.first) < std::pair(b.first.size(), b.first);
  });
  std::vector<std::vector<std::string>> rows;
  for (const auto& [id, node] : ordered) {
    auto field = [&node = *node](const char* name) {
      return node.is_object() && node.contains(name) ? format_cell(node[name]) : "";
    };
    // role, reachable, match and lag: ReefDB's additions (a follower
    // leaves match and lag to the leader, and they show empty).
    rows.push_back({id, field("api_addr"), field("addr"), field("voter"), field("role"), field("leader"),
                    field("reachable"), field("match_index"), field("lag")});
  }
  return format_table({"id", "api_addr", "addr", "voter", "role", "leader", "reachable", "match", "lag"}, rows);
}

}  // namespace reef::prod
