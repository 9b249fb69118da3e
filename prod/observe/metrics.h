// A small metrics registry rendered in the Prometheus text exposition format
// (version 0.0.4: "# HELP", "# TYPE", one sample per line).
//
// A metric family is a name, a type, a help line and, for histograms, fixed
// bucket upper bounds; its series are told apart by labels. Asking the
// registry for a series creates it on first use and returns the same object
// afterwards; references stay valid for the registry's lifetime, so hot paths
// keep the reference instead of looking it up again.
//
// Threading: none. The registry and its metrics belong to the node's loop
// thread, like everything the node driver touches; other threads (the HTTP
// handler serving /metrics) post to that loop and render there. That keeps
// every update a plain add, and makes a rendering a consistent snapshot.
//
// Rendering is deterministic: families sorted by name, series by their label
// sets, labels by name (histograms' `le` last), numbers in one fixed format.
// Two registries with the same contents render byte-identical text, which is
// what lets tests compare against exact expected output.
//
// Names, label names, types and buckets are chosen by our code, so misuse
// (an invalid name, one name registered as two types, inconsistent label
// names in one family) is a bug and fails an assertion. Label *values* may
// come from anywhere and are escaped; callers must keep their number bounded
// (a label value per client would grow the registry without limit).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include "absl/strings/string_view.h"
#include <variant>
#include <vector>

#include "absl/container/btree_map.h"

namespace reef::prod {

// Label name -> value; the ordered map makes every label set canonical.
using Labels = absl::btree_map<std::string, std::string>;

// A value that only goes up (resets only with the process).
class Counter {
 public:
  void increment(double amount = 1);  // amount >= 0
  // Mirrors a count kept elsewhere (a transport's counters): sets the value
  // to `total`, which must not be below the current value.
  void advance_to(double total);
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// A value that goes up and down.
class Gauge {
 public:
  void set(double value) { value_ = value; }
  void add(double amount) { value_ += amount; }
  double value() const { return value_; }

 private:
  double value_ = 0;
};

// Counts observations into fixed buckets: bucket i holds the observations
// <= upper_bounds[i] (and above the previous bound); one more bucket, +Inf,
// holds the rest. Rendered cumulatively, as Prometheus expects.
class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);  // not NaN
  // Takes over the observations of `other`, a histogram kept elsewhere
  // with the same bounds (asserted).
  void copy_from(const Histogram& other);

  const std::vector<double>& upper_bounds() const { return upper_bounds_; }
  // Per bucket, not cumulative; one more entry than upper_bounds (the +Inf bucket).
  const std::vector<uint64_t>& bucket_counts() const { return bucket_counts_; }
  uint64_t count() const { return count_; }
  double sum() const { return sum_; }

 private:
  std::vector<double> upper_bounds_;
  std::vector<uint64_t> bucket_counts_;
  uint64_t count_ = 0;
  double sum_ = 0;
};

enum class MetricType { kCounter, kGauge, kHistogram };

class MetricsRegistry {
 public:
  MetricsRegistry() = default;
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // The series of family `name` with `labels`, created at zero on first use.
  // Every call for one name must pass the same type, help and buckets, and
  // label sets with the same label names.
  Counter& counter(absl::string_view name, absl::string_view help, const Labels& labels = {});
  Gauge& gauge(absl::string_view name, absl::string_view help, const Labels& labels = {});
  // `upper_bounds`: strictly increasing and finite; +Inf is implicit.
  Histogram& histogram(absl::string_view name, absl::string_view help, const std::vector<double>& upper_bounds,
                       const Labels& labels = {});

  // Every family in the text exposition format (content type
  // "text/plain; version=0.0.4; charset=utf-8").
  std::string render() const;

 private:
  using Series = std::variant<Counter, Gauge, Histogram>;
  struct Family {
    MetricType type;
    std::string help;
    std::vector<double> upper_bounds;  // histograms only
    // unique_ptr: btree nodes move, the series they point to do not.
    absl::btree_map<Labels, std::unique_ptr<Series>> series;
  };

  Series& series(absl::string_view name, absl::string_view help, MetricType type,
                 const std::vector<double>& upper_bounds, const Labels& labels);

  absl::btree_map<std::string, Family> families_;
};

// The content type a /metrics handler answers with.
inline constexpr absl::string_view kPrometheusContentType = "text/plain; version=0.0.4; charset=utf-8";

// `count` bounds start, start*factor, start*factor^2, ... (start > 0, factor > 1).
std::vector<double> exponential_buckets(double start, double factor, int count);
// Prometheus' client default buckets, for request latencies in seconds.
std::vector<double> default_latency_buckets();

// A sample value as the exposition format writes it: integers without a
// fraction, others in the shortest form that reads back exactly (exponent
// form below 1e-4 and from 1e21 on), +Inf, -Inf, NaN.
std::string format_sample_value(double value);
// A label value inside double quotes: backslash, double quote and newline escaped.
std::string escape_label_value(absl::string_view value);
// A HELP text: backslash and newline escaped.
std::string escape_help(absl::string_view help);

}  // namespace reef::prod
