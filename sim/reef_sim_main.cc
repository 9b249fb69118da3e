// reef-sim: runs ReefDB's real node code in the deterministic simulator.
//
//   reef-sim run --seed S ...      one run; its report is the last stdout line (JSON)
//   reef-sim swarm --seeds A..B    every seed in its own process, then a summary
//   reef-sim bugs                  the deliberate bugs --bug can inject
//
// Arguments are parsed in sim/cli_args.{h,cc} (usage text there too). The
// only thing that reaches a run is the RunConfig built from the parsed
// arguments: progress and trace hooks only observe, and the terminal, the
// wall clock and the job count decide what is printed, never what happens,
// so the same seed prints the same trace_hash however it is run.
//
// A failed REEF_ASSERT inside a run throws (sim/throwing_assertions.cc, the
// reef_throwing_assertions seam) and run_simulation() reports it as a
// violation.
//
// Exit status: 0 every check passed, 1 a check failed (or a swarm seed
// crashed), 2 usage or I/O errors.
#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <exception>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "nlohmann/json.hpp"
#include "sim/bugs.h"
#include "sim/cli_args.h"
#include "sim/run_config.h"
#include "sim/sim_run.h"

namespace reef::sim {
namespace {

constexpr int kExitPassed = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// The progress hook fires this often in simulated time whatever the terminal
// is, so hooks are identical for every invocation of a seed.
constexpr uint64_t kProgressEveryUs = 100'000;
// Without a terminal (CI logs) a line every this much simulated time.
constexpr uint64_t kProgressLineEveryUs = 5'000'000;
// A terminal is redrawn at most this often; faster only costs time.
constexpr std::chrono::milliseconds kRedrawEvery{100};
// The trace file is written through a buffer this large (one write per MiB).
constexpr size_t kTraceBufferBytes = 1 << 20;
// A swarm child's stderr is kept to its last few KiB: enough for the
// assertion message or sanitizer headline, bounded for a chatty child.
constexpr size_t kStderrTailBytes = 4096;
// The swarm summary details this many failing seeds, then lists this many
// more by number only.
constexpr size_t kFailuresDetailedMax = 20;
constexpr size_t kFailingSeedsListedMax = 200;
// A report line longer than this is treated as a broken child, not buffered.
constexpr size_t kReportBytesMax = 16 << 20;

const char* program_name = "reef-sim";  // argv[0], for reproduce commands

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// A problem with what was asked that the message alone explains (an unknown
// bug name, a trace file that cannot be created): no usage text after it.
int plain_error(const absl::Status& status) {
  std::fprintf(stderr, "reef-sim: %s\n", std::string(status.message()).c_str());
  return kExitUsage;
}

int usage_error(const absl::Status& status, std::string_view topic) {
  std::fprintf(stderr, "reef-sim: %s\n\n%s", std::string(status.message()).c_str(), cli::usage(topic).c_str());
  return kExitUsage;
}

// The seed's swarm draw, with the user's overrides and bugs applied.
// INVALID_ARGUMENT for an unknown bug name.
absl::StatusOr<RunConfig> make_config(uint64_t seed, const cli::RunShape& shape) {
  RunConfig config = RunConfig::from_seed(seed, shape.nodes);
  if (shape.duration_seconds) config.duration_ms = *shape.duration_seconds * 1000;
  config.bugs.insert(config.bugs.end(), shape.bugs.begin(), shape.bugs.end());
  config.bugs_switched_off = shape.bugs_switched_off;
  if (absl::Status status = apply_bugs(config); !status.ok()) return status;
  return config;
}

// ---------------------------------------------------------------- run

// The live progress line of `reef-sim run` on stderr.
class RunProgress {
 public:
  RunProgress() : tty_(isatty(STDERR_FILENO) == 1) {}

  void update(const RunReport& so_far, uint64_t now_us) {
    if (tty_) {
      const auto now = std::chrono::steady_clock::now();
      if (drawn_ && now - last_draw_ < kRedrawEvery) return;
      last_draw_ = now;
      drawn_ = true;
      // \r back to the start, \033[K clears what a longer previous line left.
      std::fprintf(stderr, "\r%s\033[K", text(so_far, now_us).c_str());
    } else if (now_us >= next_line_us_) {
      next_line_us_ = (now_us / kProgressLineEveryUs + 1) * kProgressLineEveryUs;
      std::fprintf(stderr, "%s\n", text(so_far, now_us).c_str());
    }
  }

  // Redraws the line with the final counts (the last hook call may be up to
  // kRedrawEvery stale) and ends it so that what follows starts on its own.
  void finish(const RunReport& report) {
    if (!drawn_) return;
    const auto end_us = static_cast<uint64_t>(report.sim_seconds * 1e6);
    std::fprintf(stderr, "\r%s\033[K\n", text(report, end_us).c_str());
    drawn_ = false;
  }

 private:
  static std::string text(const RunReport& r, uint64_t now_us) {
    return absl::StrFormat("sim %7.1f s | %llu events | ops ok %llu failed %llu unknown %llu | %llu leader changes",
                           static_cast<double>(now_us) / 1e6, static_cast<unsigned long long>(r.events),
                           static_cast<unsigned long long>(r.ops_ok), static_cast<unsigned long long>(r.ops_failed),
                           static_cast<unsigned long long>(r.ops_unknown),
                           static_cast<unsigned long long>(r.leader_changes));
  }

  const bool tty_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point last_draw_;
  uint64_t next_line_us_ = kProgressLineEveryUs;
};

// Appends `text` to `out` as the inside of a JSON string. Scheduler labels
// are our own ASCII, but a label is never allowed to break the line format.
void append_json_escaped(std::string& out, std::string_view text) {
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out.push_back('\\');
      out.push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppendFormat(&out, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
    } else {
      out.push_back(c);
    }
  }
}

// --trace FILE: one JSON object per scheduler event. A run has millions of
// events, so lines go through a large stdio buffer; the first write error is
// remembered and reported when the file is closed, after the run.
class TraceFile {
 public:
  static absl::StatusOr<std::unique_ptr<TraceFile>> open(const std::string& path) {
    FILE* file = std::fopen(path.c_str(), "w");
    if (file == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("cannot open trace file ", path, ": ", std::strerror(errno)));
    }
    return std::unique_ptr<TraceFile>(new TraceFile(path, file));
  }

  ~TraceFile() {
    if (file_ != nullptr) std::fclose(file_);
  }
  TraceFile(const TraceFile&) = delete;
  TraceFile& operator=(const TraceFile&) = delete;

  void write(uint64_t time_us, std::string_view label) {
    if (error_ != 0) return;
    line_.clear();
    absl::StrAppend(&line_, "{\"t_us\":", time_us, ",\"event\":\"");
    append_json_escaped(line_, label);
    line_.append("\"}\n");
    if (std::fwrite(line_.data(), 1, line_.size(), file_) != line_.size()) error_ = errno;
  }

  absl::Status close() {
    if (std::fclose(file_) != 0 && error_ == 0) error_ = errno;
    file_ = nullptr;
    if (error_ == 0) return absl::OkStatus();
    return absl::DataLossError(absl::StrCat("writing trace file ", path_, ": ", std::strerror(error_)));
  }

 private:
  TraceFile(std::string path, FILE* file) : path_(std::move(path)), file_(file), buffer_(kTraceBufferBytes) {
    std::setvbuf(file_, buffer_.data(), _IOFBF, buffer_.size());
  }

  std::string path_;
  FILE* file_;
  std::vector<char> buffer_;  // must outlive file_: stdio uses it until fclose
  std::string line_;          // reused for every event
  int error_ = 0;
};

int command_run(const cli::RunArgs& args) {
  absl::StatusOr<RunConfig> config = make_config(args.seed, args.shape);
  if (!config.ok()) return plain_error(config.status());
  std::unique_ptr<TraceFile> trace;
  if (!args.trace_path.empty()) {
    absl::StatusOr<std::unique_ptr<TraceFile>> opened = TraceFile::open(args.trace_path);
    if (!opened.ok()) return plain_error(opened.status());
    trace = std::move(*opened);
  }

  std::fprintf(stderr, "reef-sim run: seed %llu: %s\n", static_cast<unsigned long long>(args.seed),
               config->describe().c_str());
  RunProgress progress;
  RunHooks hooks;
  hooks.progress_every_us = kProgressEveryUs;
  hooks.progress = [&](const RunReport& so_far, uint64_t now_us) { progress.update(so_far, now_us); };
  if (trace) hooks.trace = [&](uint64_t time_us, std::string_view label) { trace->write(time_us, label); };

  const RunReport report = run_simulation(*config, hooks);
  progress.finish(report);
  const absl::Status trace_status = trace ? trace->close() : absl::OkStatus();

  if (!report.membership.empty()) {
    std::fprintf(stderr, "reef-sim run: membership schedule:\n");
    for (const std::string& line : report.membership) std::fprintf(stderr, "  %s\n", line.c_str());
  }
  if (report.ok()) {
    std::fprintf(stderr, "reef-sim run: seed %llu PASSED (%zu checks)\n",
                 static_cast<unsigned long long>(args.seed), report.checks.size());
  } else {
    std::fprintf(stderr, "reef-sim run: seed %llu FAILED: %s\n", static_cast<unsigned long long>(args.seed),
                 report.violations.front().c_str());
  }
  std::printf("%s\n", report.to_json().c_str());
  std::fflush(stdout);
  if (!trace_status.ok()) return plain_error(trace_status);
  return report.ok() ? kExitPassed : kExitFailed;
}

// ---------------------------------------------------------------- bugs

int command_bugs() {
  for (const BugInfo& bug : all_bugs()) std::printf("%s\t%s\n", bug.name, bug.description);
  return kExitPassed;
}

// ---------------------------------------------------------------- swarm

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// The child side of a swarm seed: run, send the report line, exit 0 passed,
// 1 failed, 3 if it could not report. _exit, not exit: the parent's stdio
// buffers and atexit handlers were copied by fork and are not ours to run.
[[noreturn]] void run_child(const RunConfig& config, int report_fd, int stderr_fd) {
  // Anything the run prints goes to the captured stderr, never into the
  // parent's summary on the shared stdout.
  ::dup2(stderr_fd, STDERR_FILENO);
  ::dup2(stderr_fd, STDOUT_FILENO);
  int code = 3;
  try {
    const RunReport report = run_simulation(config);
    if (write_all(report_fd, report.to_json() + "\n")) code = report.ok() ? kExitPassed : kExitFailed;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "reef-sim: uncaught exception in seed %llu: %s\n",
                 static_cast<unsigned long long>(config.seed), e.what());
  }
  std::fflush(stderr);
  ::_exit(code);
}

// One running swarm child and what it has sent so far.
struct Child {
  uint64_t seed = 0;
  pid_t pid = -1;
  int report_fd = -1;  // read end; -1 once at end of file
  int stderr_fd = -1;  // read end; -1 once at end of file
  std::string report;
  bool report_too_large = false;
  std::string stderr_tail;

  bool drained() const { return report_fd < 0 && stderr_fd < 0; }
};

absl::StatusOr<Child> spawn(uint64_t seed, const RunConfig& config) {
  int report_pipe[2];
  int stderr_pipe[2];
  if (::pipe(report_pipe) != 0) return absl::ResourceExhaustedError(absl::StrCat("pipe: ", std::strerror(errno)));
  if (::pipe(stderr_pipe) != 0) {
    const int err = errno;
    ::close(report_pipe[0]);
    ::close(report_pipe[1]);
    return absl::ResourceExhaustedError(absl::StrCat("pipe: ", std::strerror(err)));
  }
  // Whatever the parent has buffered would otherwise be printed twice.
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report_pipe[0]);
    ::close(stderr_pipe[0]);
    run_child(config, report_pipe[1], stderr_pipe[1]);
  }
  const int fork_errno = errno;
  // The parent never writes: closing its write ends now is what lets it see
  // end of file when the child exits, and keeps later children from
  // inheriting them (which would hold the pipes open).
  ::close(report_pipe[1]);
  ::close(stderr_pipe[1]);
  if (pid < 0) {
    ::close(report_pipe[0]);
    ::close(stderr_pipe[0]);
    return absl::ResourceExhaustedError(absl::StrCat("fork: ", std::strerror(fork_errno)));
  }
  Child child;
  child.seed = seed;
  child.pid = pid;
  child.report_fd = report_pipe[0];
  child.stderr_fd = stderr_pipe[0];
  return child;
}

// Reads what is available on `fd` into the child's buffers; closes it at end
// of file (or on a read error, which for a pipe means the same).
void drain(Child& child, int& fd, bool is_report) {
  char buffer[16384];
  const ssize_t n = ::read(fd, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    ::close(fd);
    fd = -1;
    return;
  }
  const std::string_view data(buffer, static_cast<size_t>(n));
  if (!is_report) {
    child.stderr_tail.append(data);
    if (child.stderr_tail.size() > 2 * kStderrTailBytes) {
      child.stderr_tail.erase(0, child.stderr_tail.size() - kStderrTailBytes);
    }
  } else if (child.report.size() + data.size() > kReportBytesMax) {
    child.report_too_large = true;  // keep reading so the child can finish
  } else {
    child.report.append(data);
  }
}

// What one finished seed contributed.
struct SeedOutcome {
  uint64_t seed = 0;
  bool passed = false;
  std::string failure;      // first violation, or how the child died
  std::string stderr_tail;  // only kept for failures
  uint64_t events = 0;
  double sim_seconds = 0;
  std::map<std::string, uint64_t> faults;
};

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    const char* name = strsignal(signal);
    return absl::StrCat("crashed: signal ", signal, name != nullptr ? absl::StrCat(" (", name, ")") : "");
  }
  return absl::StrCat("crashed: exit status ", WEXITSTATUS(status), " without a report");
}

// The child's last non-empty line, which is its report.
std::string_view last_line(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  const size_t newline = text.rfind('\n');
  return newline == std::string_view::npos ? text : text.substr(newline + 1);
}

// Reads the counters from a parsed report; a field of the wrong type counts
// as zero rather than aborting the summary of every other seed.
void read_totals(const nlohmann::json& report, SeedOutcome& outcome) {
  if (auto it = report.find("events"); it != report.end() && it->is_number_unsigned()) {
    outcome.events = it->get<uint64_t>();
  }
  if (auto it = report.find("sim_seconds"); it != report.end() && it->is_number()) {
    outcome.sim_seconds = it->get<double>();
  }
  if (auto it = report.find("faults"); it != report.end() && it->is_object()) {
    for (const auto& [kind, count] : it->items()) {
      if (count.is_number_unsigned()) outcome.faults[kind] = count.get<uint64_t>();
    }
  }
}

std::string first_violation(const nlohmann::json& report) {
  if (auto it = report.find("violations"); it != report.end() && it->is_array() && !it->empty() &&
                                            it->front().is_string()) {
    return it->front().get<std::string>();
  }
  return "";
}

SeedOutcome classify(const Child& child, int status) {
  SeedOutcome outcome;
  outcome.seed = child.seed;
  const std::string_view line = last_line(child.report);
  const bool exited = WIFEXITED(status);
  const int code = exited ? WEXITSTATUS(status) : -1;
  if (child.report_too_large) {
    outcome.failure = absl::StrCat("crashed: report larger than ", kReportBytesMax, " bytes");
  } else if (!exited || line.empty()) {
    outcome.failure = describe_exit(status);
  } else {
    const nlohmann::json report = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!report.is_object()) {
      outcome.failure = absl::StrCat("crashed: unreadable report (exit status ", code, ")");
    } else {
      read_totals(report, outcome);
      const std::string violation = first_violation(report);
      if (code == kExitPassed && violation.empty()) {
        outcome.passed = true;
      } else if (!violation.empty()) {
        outcome.failure = violation;
      } else {
        outcome.failure = absl::StrCat("exit status ", code, " with no violation in its report");
      }
    }
  }
  if (!outcome.passed) outcome.stderr_tail = child.stderr_tail;
  return outcome;
}

// The swarm's progress on stderr: a redrawn bar on a terminal, otherwise a
// line at every 10% so that CI logs show it is alive without flooding them.
class SwarmProgress {
 public:
  explicit SwarmProgress(uint64_t total) : total_(total), tty_(isatty(STDERR_FILENO) == 1) {}

  void update(uint64_t done, uint64_t failed, double wall_seconds) {
    if (tty_) {
      // Redraw for every finished seed, otherwise only to move the clock.
      const auto now = std::chrono::steady_clock::now();
      if (drawn_ && done == drawn_done_ && now - last_draw_ < kRedrawEvery) return;
      last_draw_ = now;
      drawn_done_ = done;
      constexpr uint64_t kWidth = 30;
      const uint64_t filled = done * kWidth / total_;
      std::fprintf(stderr, "\r[%s%s] %llu/%llu seeds, %llu failed, %.1f s\033[K",
                   std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                   static_cast<unsigned long long>(failed), wall_seconds);
      drawn_ = true;
      return;
    }
    const uint64_t decile = done * 10 / total_;
    if (decile <= last_decile_) return;
    last_decile_ = decile;
    std::fprintf(stderr, "swarm: %llu/%llu seeds done (%llu%%), %llu failed, %.1f s\n",
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total_),
                 static_cast<unsigned long long>(done * 100 / total_), static_cast<unsigned long long>(failed),
                 wall_seconds);
  }

  void finish() {
    if (drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  const uint64_t total_;
  const bool tty_;
  bool drawn_ = false;
  uint64_t drawn_done_ = 0;
  std::chrono::steady_clock::time_point last_draw_;
  uint64_t last_decile_ = 0;
};

struct SwarmTotals {
  uint64_t run = 0;
  uint64_t passed = 0;
  uint64_t events = 0;
  double sim_seconds = 0;
  std::map<std::string, uint64_t> faults;
  std::vector<SeedOutcome> failures;

  void add(SeedOutcome outcome) {
    ++run;
    events += outcome.events;
    sim_seconds += outcome.sim_seconds;
    for (const auto& [kind, count] : outcome.faults) faults[kind] += count;
    if (outcome.passed) {
      ++passed;
    } else {
      failures.push_back(std::move(outcome));
    }
  }
};

void print_stderr_tail(const std::string& tail) {
  if (tail.empty()) return;
  // Start at a line boundary: the tail was cut at an arbitrary byte.
  std::string_view text = tail;
  if (tail.size() >= kStderrTailBytes) {
    if (const size_t newline = text.find('\n'); newline != std::string_view::npos) text.remove_prefix(newline + 1);
  }
  std::printf("    its stderr (last lines):\n");
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::printf("      | %.*s\n", static_cast<int>(end - start), text.data() + start);
    start = end + 1;
  }
}

// A swarm with a bug fails on most seeds; past the first few the details
// repeat, so the rest are only listed by number (and that list is bounded).
void print_more_failing_seeds(const std::vector<SeedOutcome>& failures, size_t shown) {
  if (shown == failures.size()) return;
  std::string seeds;
  const size_t listed_end = std::min(failures.size(), shown + kFailingSeedsListedMax);
  for (size_t i = shown; i < listed_end; ++i) absl::StrAppend(&seeds, " ", failures[i].seed);
  if (listed_end < failures.size()) absl::StrAppend(&seeds, " ...");
  std::printf("  %zu more failing seeds:%s\n", failures.size() - shown, seeds.c_str());
}

void print_summary(const cli::SwarmArgs& args, SwarmTotals& totals, double wall_seconds) {
  std::vector<std::string> faults;
  for (const auto& [kind, count] : totals.faults) faults.push_back(absl::StrCat(kind, " ", count));
  std::printf("\nreef-sim swarm: seeds %llu..%llu%s\n", static_cast<unsigned long long>(args.seeds.first),
              static_cast<unsigned long long>(args.seeds.last),
              args.shape.bugs.empty() ? "" : absl::StrCat(", bugs: ", absl::StrJoin(args.shape.bugs, " ")).c_str());
  std::printf("  %-22s %llu\n", "seeds run", static_cast<unsigned long long>(totals.run));
  std::printf("  %-22s %llu\n", "passed", static_cast<unsigned long long>(totals.passed));
  std::printf("  %-22s %zu\n", "failed", totals.failures.size());
  std::printf("  %-22s %llu\n", "total events", static_cast<unsigned long long>(totals.events));
  std::printf("  %-22s %.1f\n", "total sim seconds", totals.sim_seconds);
  std::printf("  %-22s %.1f\n", "wall seconds", wall_seconds);
  std::printf("  %-22s %.1f\n", "sim s per wall s", wall_seconds > 0 ? totals.sim_seconds / wall_seconds : 0.0);
  std::printf("  %-22s %s\n", "faults injected", faults.empty() ? "none" : absl::StrJoin(faults, ", ").c_str());
  if (totals.failures.empty()) return;
  // Children finish in any order; the report lists seeds in order.
  std::sort(totals.failures.begin(), totals.failures.end(),
            [](const SeedOutcome& a, const SeedOutcome& b) { return a.seed < b.seed; });
  std::printf("\nfailing seeds (rerun one alone; add --trace FILE to see every event):\n");
  const size_t shown = std::min(totals.failures.size(), kFailuresDetailedMax);
  for (size_t i = 0; i < shown; ++i) {
    const SeedOutcome& failure = totals.failures[i];
    std::printf("  seed %llu: %s\n", static_cast<unsigned long long>(failure.seed), failure.failure.c_str());
    std::printf("    reproduce: %s\n",
                cli::reproduce_command(program_name, failure.seed, args.shape).c_str());
    print_stderr_tail(failure.stderr_tail);
  }
  print_more_failing_seeds(totals.failures, shown);
}

size_t default_jobs() {
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  return cpus < 1 ? 1 : static_cast<size_t>(cpus);
}

// Waits until at least one child has something to read (or has exited) and
// reads it.
void poll_children(std::vector<Child>& running) {
  std::vector<pollfd> fds;
  std::vector<std::pair<size_t, bool>> owners;  // (child index, is report fd)
  for (size_t i = 0; i < running.size(); ++i) {
    if (running[i].report_fd >= 0) {
      fds.push_back({running[i].report_fd, POLLIN, 0});
      owners.emplace_back(i, true);
    }
    if (running[i].stderr_fd >= 0) {
      fds.push_back({running[i].stderr_fd, POLLIN, 0});
      owners.emplace_back(i, false);
    }
  }
  if (fds.empty()) return;
  // The timeout only keeps the progress bar's wall clock moving.
  if (::poll(fds.data(), fds.size(), 500) <= 0) return;
  for (size_t k = 0; k < fds.size(); ++k) {
    if (fds[k].revents == 0) continue;
    Child& child = running[owners[k].first];
    drain(child, owners[k].second ? child.report_fd : child.stderr_fd, owners[k].second);
  }
}

// Reaps every child whose pipes are both closed: it has exited or is about to.
void reap_children(std::vector<Child>& running, SwarmTotals& totals) {
  for (size_t i = 0; i < running.size();) {
    if (!running[i].drained()) {
      ++i;
      continue;
    }
    int status = 0;
    while (::waitpid(running[i].pid, &status, 0) < 0 && errno == EINTR) {
    }
    totals.add(classify(running[i], status));
    running.erase(running.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

int command_swarm(const cli::SwarmArgs& args) {
  // An unknown bug is a usage error, found before any process starts.
  if (absl::StatusOr<RunConfig> probe = make_config(args.seeds.first, args.shape); !probe.ok()) {
    return plain_error(probe.status());
  }
  const uint64_t total = args.seeds.count();
  const size_t jobs = args.jobs != 0 ? args.jobs : default_jobs();
  std::fprintf(stderr, "reef-sim swarm: %llu seeds (%llu..%llu), %zu at a time\n",
               static_cast<unsigned long long>(total), static_cast<unsigned long long>(args.seeds.first),
               static_cast<unsigned long long>(args.seeds.last), jobs);
  const auto start = std::chrono::steady_clock::now();
  SwarmProgress progress(total);
  SwarmTotals totals;
  std::vector<Child> running;
  uint64_t launched = 0;  // seeds first .. first + launched - 1 have started
  while (launched < total || !running.empty()) {
    while (launched < total && running.size() < jobs) {
      const uint64_t seed = args.seeds.first + launched;
      absl::StatusOr<RunConfig> config = make_config(seed, args.shape);
      absl::StatusOr<Child> child = config.ok() ? spawn(seed, *config) : absl::StatusOr<Child>(config.status());
      if (!child.ok()) {
        // Out of processes or descriptors: wait for a running child to free
        // some; with none running, waiting cannot help.
        if (!running.empty()) break;
        progress.finish();
        std::fprintf(stderr, "reef-sim: cannot start seed %llu: %s\n", static_cast<unsigned long long>(seed),
                     std::string(child.status().message()).c_str());
        return kExitUsage;
      }
      running.push_back(std::move(*child));
      ++launched;
    }
    poll_children(running);
    reap_children(running, totals);
    progress.update(totals.run, totals.failures.size(), seconds_since(start));
  }
  progress.finish();
  print_summary(args, totals, seconds_since(start));
  return totals.failures.empty() ? kExitPassed : kExitFailed;
}

int dispatch(const cli::CliArgs& args) {
  switch (args.command) {
    case cli::Command::kHelp: std::fputs(cli::usage(args.help_topic).c_str(), stdout); return kExitPassed;
    case cli::Command::kRun: return command_run(args.run);
    case cli::Command::kSwarm: return command_swarm(args.swarm);
    case cli::Command::kBugs: return command_bugs();
  }
  return kExitUsage;
}

}  // namespace
}  // namespace reef::sim

int main(int argc, char** argv) {
  using namespace reef::sim;
  if (argc > 0 && argv[0] != nullptr) program_name = argv[0];
  const std::vector<std::string> args(argv + std::min(argc, 1), argv + argc);
  try {
    absl::StatusOr<cli::CliArgs> parsed = cli::parse(args);
    if (!parsed.ok()) return usage_error(parsed.status(), args.empty() ? "" : args[0]);
    return dispatch(*parsed);
  } catch (const std::exception& e) {
    // run_simulation() turns a failed assertion inside a run into a
    // violation; reaching here means the tool itself broke.
    std::fprintf(stderr, "reef-sim: internal error (not a simulation result): %s\n", e.what());
    return kExitFailed;
  }
}
