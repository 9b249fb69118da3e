#include "prod/observe/metrics.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "raft/core/assert.h"

namespace reef::prod {
namespace {

// Prometheus data model: metric names [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]* (names starting with "__" are reserved).
bool valid_name(absl::string_view name, bool allow_colon) {
  if (name.empty() || absl::ascii_isdigit(name.front())) return false;
  return std::all_of(name.begin(), name.end(), [&](char c) {
    return absl::ascii_isalnum(c) || c == '_' || (allow_colon && c == ':');
  });
}

absl::string_view type_name(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  REEF_UNREACHABLE("metric type ", static_cast<int>(type));
}

// {a="1",b="2"} with `extra` (the histogram's le) last; "" without labels.
std::string render_labels(const Labels& labels, absl::string_view extra_name = {}, absl::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  for (const auto& [name, value] : labels) {
    absl::StrAppend(&out, out.size() > 1 ? "," : "", name, "=\"", escape_label_value(value), "\"");
  }
  if (!extra_name.empty()) {
    absl::StrAppend(&out, out.size() > 1 ? "," : "", extra_name, "=\"", extra_value, "\"");
  }
  out += "}";
  return out;
}

void render_sample(std::string& out, absl::string_view name, absl::string_view labels, double value) {
  absl::StrAppend(&out, name, labels, " ", format_sample_value(value), "\n");
}

void render_histogram(std::string& out, absl::string_view name, const Labels& labels, const Histogram& histogram) {
  const std::string bucket_name = absl::StrCat(name, "_bucket");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < histogram.bucket_counts().size(); ++i) {
    cumulative += histogram.bucket_counts()[i];
    const bool last = i == histogram.upper_bounds().size();
    const std::string le = last ? "+Inf" : format_sample_value(histogram.upper_bounds()[i]);
    render_sample(out, bucket_name, render_labels(labels, "le", le), static_cast<double>(cumulative));
  }
  render_sample(out, absl::StrCat(name, "_sum"), render_labels(labels), histogram.sum());
  render_sample(out, absl::StrCat(name, "_count"), render_labels(labels), static_cast<double>(histogram.count()));
}

}  // namespace

void Counter::increment(double amount) {
  REEF_ASSERT(amount >= 0, "a counter only goes up; amount=", amount);
  value_ += amount;
}

void Counter::advance_to(double total) {
  REEF_ASSERT(total >= value_, "a counter only goes up; from ", value_, " to ", total);
  value_ = total;
}

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), bucket_counts_(upper_bounds_.size() + 1, 0) {
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    REEF_ASSERT(std::isfinite(upper_bounds_[i]), "histogram bound ", i, " is not finite");
    REEF_ASSERT(i == 0 || upper_bounds_[i - 1] < upper_bounds_[i], "histogram bounds must increase at ", i);
  }
}

void Histogram::observe(double value) {
  REEF_ASSERT(!std::isnan(value), "histogram observation is NaN");
  const auto bucket = std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value);
  ++bucket_counts_[static_cast<size_t>(bucket - upper_bounds_.begin())];
  ++count_;
  sum_ += value;
}

void Histogram::copy_from(const Histogram& other) {
  REEF_ASSERT(other.upper_bounds_ == upper_bounds_, "copying a histogram with other bounds");
  bucket_counts_ = other.bucket_counts_;
  count_ = other.count_;
  sum_ = other.sum_;
}

MetricsRegistry::Series& MetricsRegistry::series(absl::string_view name, absl::string_view help, MetricType type,
                                                 const std::vector<double>& upper_bounds, const Labels& labels) {
  REEF_ASSERT(valid_name(name, /*allow_colon=*/true), "invalid metric name \"", name, "\"");
  auto family = families_.find(name);
  if (family == families_.end()) {
    family = families_.emplace(std::string(name), Family{type, std::string(help), upper_bounds, {}}).first;
  }
  Family& f = family->second;
  REEF_ASSERT(f.type == type && f.help == help && f.upper_bounds == upper_bounds, "metric ", name,
              " registered again with another type, help or buckets");
  auto existing = f.series.find(labels);
  if (existing != f.series.end()) return *existing->second;
  for (const auto& [label, value] : labels) {
    REEF_ASSERT(valid_name(label, /*allow_colon=*/false) && label.rfind("__", 0) != 0 &&
                    !(type == MetricType::kHistogram && label == "le"),
                "invalid label name \"", label, "\" on ", name);
  }
  if (!f.series.empty()) {
    const Labels& first = f.series.begin()->first;
    const bool same_names = std::equal(first.begin(), first.end(), labels.begin(), labels.end(),
                                       [](const auto& a, const auto& b) { return a.first == b.first; });
    REEF_ASSERT(same_names, "metric ", name, ": every series must have the same label names");
  }
  std::unique_ptr<Series> created;
  switch (type) {
    case MetricType::kCounter: created = std::make_unique<Series>(Counter()); break;
    case MetricType::kGauge: created = std::make_unique<Series>(Gauge()); break;
    case MetricType::kHistogram: created = std::make_unique<Series>(Histogram(upper_bounds)); break;
  }
  return *f.series.emplace(labels, std::move(created)).first->second;
}

Counter& MetricsRegistry::counter(absl::string_view name, absl::string_view help, const Labels& labels) {
  return std::get<Counter>(series(name, help, MetricType::kCounter, {}, labels));
}

Gauge& MetricsRegistry::gauge(absl::string_view name, absl::string_view help, const Labels& labels) {
  return std::get<Gauge>(series(name, help, MetricType::kGauge, {}, labels));
}

Histogram& MetricsRegistry::histogram(absl::string_view name, absl::string_view help,
                                      const std::vector<double>& upper_bounds, const Labels& labels) {
  return std::get<Histogram>(series(name, help, MetricType::kHistogram, upper_bounds, labels));
}

std::string MetricsRegistry::render() const {
  std::string out;
  for (const auto& [name, family] : families_) {
    absl::StrAppend(&out, "# HELP ", name, " ", escape_help(family.help), "\n");
    absl::StrAppend(&out, "# TYPE ", name, " ", type_name(family.type), "\n");
    for (const auto& [labels, series] : family.series) {
      if (const auto* histogram = std::get_if<Histogram>(series.get())) {
        render_histogram(out, name, labels, *histogram);
      } else if (const auto* counter = std::get_if<Counter>(series.get())) {
        render_sample(out, name, render_labels(labels), counter->value());
      } else {
        render_sample(out, name, render_labels(labels), std::get<Gauge>(*series).value());
      }
    }
  }
  return out;
}

std::vector<double> exponential_buckets(double start, double factor, int count) {
  REEF_ASSERT(start > 0 && factor > 1 && count > 0, "exponential_buckets(", start, ", ", factor, ", ", count, ")");
  std::vector<double> bounds;
  double bound = start;
  for (int i = 0; i < count; ++i, bound *= factor) bounds.push_back(bound);
  return bounds;
}

std::vector<double> default_latency_buckets() {
  return {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
}

std::string format_sample_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Below 2^53 every integer is exact; print it as one ("-0" included as "0").
  if (value == std::trunc(value) && std::fabs(value) < 9007199254740992.0) {
    return absl::StrCat(static_cast<int64_t>(value));
  }
  char buffer[64];
  const auto scientific = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  REEF_ASSERT(scientific.ec == std::errc(), "to_chars failed for ", value);
  const absl::string_view text(buffer, static_cast<size_t>(scientific.ptr - buffer));
  const int exponent = std::atoi(std::string(text.substr(text.find('e') + 1)).c_str());
  if (exponent < -4 || exponent >= 21) return std::string(text);
  const auto fixed = std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::fixed);
  REEF_ASSERT(fixed.ec == std::errc(), "to_chars failed for ", value);
  return std::string(buffer, static_cast<size_t>(fixed.ptr - buffer));
}

std::string escape_label_value(absl::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

std::string escape_help(absl::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace reef::prod
