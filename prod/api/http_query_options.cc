#include "prod/api/http_query_options.h"

#include <cstddef>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "prod/api/http_duration.h"

namespace reef::prod::http {
namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

absl::StatusOr<std::string> percent_decode(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c != '%') {
      out.push_back(c);
    } else {
      const bool complete = i + 2 < text.size();
      const int high = complete ? hex_value(text[i + 1]) : -1;
      const int low = complete ? hex_value(text[i + 2]) : -1;
      if (high < 0 || low < 0) {
        return absl::InvalidArgumentError(absl::StrCat("invalid URL escape \"", text.substr(i, 3), "\""));
      }
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    }
  }
  return out;
}

const std::string* find(const Pairs& pairs, absl::string_view key) {
  for (const auto& [k, v] : pairs) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool has(const Pairs& pairs, absl::string_view key) { return find(pairs, key) != nullptr; }

absl::Status bad(absl::string_view key, absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("query parameter '", key, "': ", why));
}

absl::StatusOr<ReadLevel> parse_level(const std::string& text) {
  const std::string level = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  if (level == "none") return ReadLevel::kNone;
  if (level == "weak" || level == "auto") return ReadLevel::kWeak;  // auto: weak on a voting node
  if (level == "linearizable") return ReadLevel::kLinearizable;
  if (level == "strong") return ReadLevel::kStrong;
  return bad("level", absl::StrCat("\"", text, "\" is not one of none, weak, linearizable, strong"));
}

absl::StatusOr<std::optional<int64_t>> optional_duration(const Pairs& pairs, absl::string_view key) {
  const std::string* value = find(pairs, key);
  if (value == nullptr) return std::optional<int64_t>();
  auto parsed = parse_go_duration(std::string(absl::StripAsciiWhitespace(*value)));
  if (!parsed.ok()) return bad(key, parsed.status().message());
  return std::optional<int64_t>(*parsed);
}

absl::StatusOr<std::optional<uint64_t>> optional_unsigned(const Pairs& pairs, absl::string_view key) {
  const std::string* value = find(pairs, key);
  if (value == nullptr) return std::optional<uint64_t>();
  uint64_t parsed = 0;
  const bool digits_only = !value->empty() && value->find_first_not_of("0123456789") == std::string::npos;
  if (!digits_only || !absl::SimpleAtoi(*value, &parsed)) {
    return bad(key, absl::StrCat("\"", *value, "\" is not an unsigned 64-bit integer"));
  }
  return std::optional<uint64_t>(parsed);
}

absl::Status read_flags(const Pairs& pairs, RequestOptions* options) {
  options->pretty = has(pairs, "pretty");
  options->timings = has(pairs, "timings");
  options->associative = has(pairs, "associative");
  options->transaction = has(pairs, "transaction");
  options->redirect = has(pairs, "redirect");
  options->blob_array = has(pairs, "blob_array");
  options->freshness_strict = has(pairs, "freshness_strict");
  if (has(pairs, "queue")) {
    return bad("queue", "queued writes are not supported; batch statements in one request instead");
  }
  return absl::OkStatus();
}

absl::Status read_consistency(const Pairs& pairs, RequestOptions* options) {
  if (const std::string* level = find(pairs, "level")) {
    auto parsed = parse_level(*level);
    if (!parsed.ok()) return parsed.status();
    options->level = *parsed;
  }
  auto freshness = optional_duration(pairs, "freshness");
  if (!freshness.ok()) return freshness.status();
  options->freshness_ns = *freshness;
  if (options->freshness_strict && !options->freshness_ns)
    return bad("freshness_strict", "requires freshness");
  for (absl::string_view key : {"db_timeout", "linearizable_timeout"}) {
    if (auto checked = optional_duration(pairs, key); !checked.ok()) return checked.status();
  }
  auto timeout = optional_duration(pairs, "timeout");
  if (!timeout.ok()) return timeout.status();
  options->timeout_ns = *timeout;
  auto min_index = optional_unsigned(pairs, "min_index");
  if (!min_index.ok()) return min_index.status();
  options->min_index = min_index->value_or(0);
  return absl::OkStatus();
}

absl::Status read_session(const Pairs& pairs, RequestOptions* options) {
  auto client = optional_unsigned(pairs, "client_id");
  if (!client.ok()) return client.status();
  auto sequence = optional_unsigned(pairs, "seq");
  if (!sequence.ok()) return sequence.status();
  if (client->has_value() != sequence->has_value()) {
    return bad(client->has_value() ? "client_id" : "seq", "client_id and seq go together");
  }
  if (!client->has_value()) return absl::OkStatus();
  if (**client == 0) return bad("client_id", "must not be 0 (0 means no session)");
  options->command_id = statemachine::CommandId{**client, **sequence};
  return absl::OkStatus();
}

absl::Status read_statement(const Pairs& pairs, RequestOptions* options) {
  const std::string* q = find(pairs, "q");
  if (q == nullptr) return absl::OkStatus();
  const absl::string_view trimmed = absl::StripAsciiWhitespace(*q);
  if (trimmed.empty()) return bad("q", "empty statement");
  options->q = std::string(trimmed);
  return absl::OkStatus();
}

}  // namespace

std::string_view read_level_name(ReadLevel level) {
  switch (level) {
    case ReadLevel::kNone: return "none";
    case ReadLevel::kWeak: return "weak";
    case ReadLevel::kLinearizable: return "linearizable";
    case ReadLevel::kStrong: return "strong";
  }
  return "weak";
}

raft::RequestKind request_kind(ReadLevel level) {
  switch (level) {
    case ReadLevel::kNone: return raft::RequestKind::kReadNone;
    case ReadLevel::kWeak: return raft::RequestKind::kReadWeak;
    case ReadLevel::kLinearizable: return raft::RequestKind::kReadLinearizable;
    case ReadLevel::kStrong: return raft::RequestKind::kReadStrong;
  }
  return raft::RequestKind::kReadWeak;
}

absl::StatusOr<Pairs> parse_query_string(std::string_view query) {
  Pairs pairs;
  const absl::string_view text(query.data(), query.size());
  for (absl::string_view piece : absl::StrSplit(text, '&', absl::SkipEmpty())) {
    if (piece.find(';') != absl::string_view::npos) {
      return absl::InvalidArgumentError("invalid ';' separator in query string; use '&'");
    }
    const size_t equals = piece.find('=');
    auto key = percent_decode(piece.substr(0, equals));
    if (!key.ok()) return key.status();
    auto value =
        percent_decode(equals == absl::string_view::npos ? absl::string_view() : piece.substr(equals + 1));
    if (!value.ok()) return value.status();
    pairs.emplace_back(*std::move(key), *std::move(value));
  }
  return pairs;
}

std::optional<raft::FreshnessBound> freshness_bound(const RequestOptions& options) {
  if (!options.freshness_ns || *options.freshness_ns <= 0) return std::nullopt;
  constexpr int64_t kNsPerMs = 1'000'000;
  const int64_t ns = *options.freshness_ns;
  const uint64_t ms = static_cast<uint64_t>(ns / kNsPerMs + (ns % kNsPerMs != 0 ? 1 : 0));
  return raft::FreshnessBound{.max_staleness_ms = ms, .strict = options.freshness_strict};
}

absl::StatusOr<RequestOptions> parse_request_options(std::string_view query) {
  auto pairs = parse_query_string(query);
  if (!pairs.ok()) return pairs.status();
  RequestOptions options;
  for (auto step : {read_flags, read_consistency, read_session, read_statement}) {
    if (auto status = step(*pairs, &options); !status.ok()) return status;
  }
  return options;
}

}  // namespace reef::prod::http
