// Durable append latency and throughput of storage::LogStore on
// prod::PosixFileSystem, next to the raw floor of the same disk measured in
// the same run.
//
// For each configuration (batches of 1, 16 and 256 entries; payloads of
// 100 B and 1 KiB) the bench opens a fresh LogStore (default options: 64 MiB
// segments) and a fresh plain file in a new temporary directory, then
// alternates, call by call:
//   LogStore: append(batch)      one encoded write + fdatasync per segment
//                                touched (+ create and directory fsync when
//                                the batch rolls into a new segment);
//   raw:      pwrite(same bytes) + fdatasync on a plain file whose 64 MiB
//                                were reserved up front with posix_fallocate,
//                                as LogStore reserves each segment (the floor);
//   grow:     the same on a plain file that grows with every write (what the
//                                log did before it preallocated segments).
// "Same bytes" is measured, not estimated: after some untimed warm-up appends
// to a scratch store without reserved space, the bench divides its size on
// disk by the number of appends, which is exact because every record of a
// configuration has the same size. Alternating the three makes them see the
// same background load (the disk is shared).
//
// Reported per configuration and side: latency median and p99 of one call
// (microseconds, wall clock, steady_clock) and entries/s = entries appended /
// total time spent in the calls (one writer, one call in flight). The ratios
// are LogStore / raw; "grow x" is grow / raw, what reserving space saves.
//
// The batch vector is built once; only the indexes are rewritten between
// calls, outside the timed region, because the caller (the Raft driver) owns
// the entries already and the bench measures the store, not their creation.
//
// Flags:
//   --seconds=<s>  time budget per configuration, both sides (default 3)
//   --quick        same as --seconds=0.5
//   --dir=<path>   where to create the temporary directory (default: $TMPDIR,
//                  else the current directory); it is removed at exit.
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "prod/disk/posix_file_system.h"
#include "raft/core/log_entry.h"
#include "raft/core/types.h"
#include "storage/log_store.h"

namespace reef::bench {
namespace {

using Clock = std::chrono::steady_clock;

// Untimed appends before measuring: the first ones pay for creating the
// segment and faulting in the page cache, which a running log does not.
constexpr uint64_t kWarmupCalls = 8;
// Bounds on timed calls per side, whatever the time budget says: enough
// samples for a p99, and no unbounded file growth on a very fast disk.
constexpr uint64_t kMinCalls = 100;
constexpr uint64_t kMaxCalls = 200000;

std::string g_temp_dir;  // removed by cleanup() on every exit path

void cleanup() {
  if (g_temp_dir.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(g_temp_dir, ec);
  if (ec) {
    std::fprintf(stderr, "warning: could not remove %s: %s\n", g_temp_dir.c_str(), ec.message().c_str());
  }
  g_temp_dir.clear();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "storage_append_bench: %s\n", what.c_str());
  cleanup();
  std::exit(1);
}

void check(const absl::Status& status, const char* what) {
  if (!status.ok()) die(std::string(what) + ": " + std::string(status.ToString()));
}

struct Stats {
  double median_us = 0;
  double p99_us = 0;
  double entries_per_second = 0;
};

Stats summarize(std::vector<double> latencies_us, uint64_t entries_per_call) {
  Stats s;
  std::sort(latencies_us.begin(), latencies_us.end());
  const size_t n = latencies_us.size();
  s.median_us = n % 2 == 1 ? latencies_us[n / 2] : (latencies_us[n / 2 - 1] + latencies_us[n / 2]) / 2;
  // Nearest rank: the smallest sample with at least 99% of samples at or below it.
  const size_t rank = (99 * n + 99) / 100;
  s.p99_us = latencies_us[std::max<size_t>(rank, 1) - 1];
  double total_us = 0;
  for (double l : latencies_us) total_us += l;
  s.entries_per_second = static_cast<double>(n * entries_per_call) / (total_us / 1e6);
  return s;
}

struct Result {
  size_t entries = 0;
  size_t payload_bytes = 0;
  uint64_t bytes_per_call = 0;
  uint64_t calls = 0;
  Stats log;
  Stats raw;
  Stats grow;
};

uint64_t directory_bytes(const std::string& dir) {
  uint64_t total = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.is_regular_file()) total += e.file_size();
  }
  return total;
}

class RawFile {
 public:
  // `reserve_bytes` > 0: reserved up front with posix_fallocate.
  RawFile(const std::string& path, uint64_t reserve_bytes) : path_(path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) die("open " + path + ": " + std::strerror(errno));
    if (reserve_bytes == 0) return;
    if (const int error = ::posix_fallocate(fd_, 0, static_cast<off_t>(reserve_bytes)); error != 0) {
      die("posix_fallocate " + path + ": " + std::strerror(error));
    }
    if (::fsync(fd_) != 0) die("fsync " + path + ": " + std::strerror(errno));
  }
  ~RawFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawFile(const RawFile&) = delete;
  RawFile& operator=(const RawFile&) = delete;

  // One pwrite of the whole buffer at the end, then fdatasync: what LogStore
  // does for a batch within one segment, without encoding or bookkeeping.
  void append_and_sync(const std::string& bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done,
                                 static_cast<off_t>(offset_ + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die("pwrite " + path_ + ": " + std::strerror(errno));
      done += static_cast<size_t>(n);
    }
    offset_ += done;
    while (::fdatasync(fd_) != 0) {
      if (errno != EINTR) die("fdatasync " + path_ + ": " + std::strerror(errno));
    }
  }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t offset_ = 0;
};

double elapsed_us(Clock::time_point start) {
  return std::chrono::duration<double, std::micro>(Clock::now() - start).count();
}

// Bytes kWarmupCalls appends of `batch` (indexes from 1) take in a store
// without reserved space, i.e. the records alone.
uint64_t unreserved_log_bytes(prod::PosixFileSystem& fs, const std::string& dir, std::vector<raft::LogEntry> batch) {
  storage::LogStoreOptions options;
  options.preallocate = false;
  absl::StatusOr<std::unique_ptr<storage::LogStore>> scratch = storage::LogStore::open(fs, dir, options);
  check(scratch.status(), "LogStore::open (scratch)");
  uint64_t next_index = 1;
  for (uint64_t i = 0; i < kWarmupCalls; ++i) {
    for (raft::LogEntry& e : batch) e.index = raft::Index(next_index++);
    check((*scratch)->append(batch), "LogStore::append (scratch)");
  }
  return directory_bytes(dir);
}

Result run_config(prod::PosixFileSystem& fs, size_t entries, size_t payload_bytes, double seconds) {
  const std::string name = "b" + std::to_string(entries) + "-p" + std::to_string(payload_bytes);
  const std::string log_dir = g_temp_dir + "/log-" + name;
  absl::StatusOr<std::unique_ptr<storage::LogStore>> opened = storage::LogStore::open(fs, log_dir);
  check(opened.status(), "LogStore::open");
  storage::LogStore& log = **opened;

  // Payload bytes vary so that nothing along the way can shortcut zeros.
  std::string payload(payload_bytes, '\0');
  for (size_t i = 0; i < payload_bytes; ++i) payload[i] = static_cast<char>('a' + i % 26);
  std::vector<raft::LogEntry> batch(entries);
  for (raft::LogEntry& e : batch) {
    e.term = raft::Term(1);
    e.payload = payload;
  }
  uint64_t next_index = 1;
  auto log_append = [&]() -> double {
    for (raft::LogEntry& e : batch) e.index = raft::Index(next_index++);
    const Clock::time_point start = Clock::now();
    check(log.append(batch), "LogStore::append");
    return elapsed_us(start);
  };

  for (uint64_t i = 0; i < kWarmupCalls; ++i) log_append();
  const uint64_t bytes = unreserved_log_bytes(fs, g_temp_dir + "/scratch-" + name, batch);
  if (bytes % kWarmupCalls != 0) die("log size " + std::to_string(bytes) + " is not a multiple of the calls");
  Result r;
  r.entries = entries;
  r.payload_bytes = payload_bytes;
  r.bytes_per_call = bytes / kWarmupCalls;

  std::string raw_bytes(r.bytes_per_call, '\0');
  for (size_t i = 0; i < raw_bytes.size(); ++i) raw_bytes[i] = static_cast<char>('a' + i % 26);
  RawFile raw(g_temp_dir + "/raw-" + name, storage::LogStoreOptions{}.segment_bytes);
  RawFile grow(g_temp_dir + "/grow-" + name, 0);
  for (uint64_t i = 0; i < kWarmupCalls; ++i) {
    raw.append_and_sync(raw_bytes);
    grow.append_and_sync(raw_bytes);
  }

  std::vector<double> log_us;
  std::vector<double> raw_us;
  std::vector<double> grow_us;
  const Clock::time_point deadline =
      Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  while (log_us.size() < kMaxCalls && (log_us.size() < kMinCalls || Clock::now() < deadline)) {
    log_us.push_back(log_append());
    const Clock::time_point start = Clock::now();
    raw.append_and_sync(raw_bytes);
    raw_us.push_back(elapsed_us(start));
    const Clock::time_point grow_start = Clock::now();
    grow.append_and_sync(raw_bytes);
    grow_us.push_back(elapsed_us(grow_start));
  }
  r.calls = log_us.size();
  r.log = summarize(std::move(log_us), entries);
  r.raw = summarize(std::move(raw_us), entries);
  r.grow = summarize(std::move(grow_us), entries);
  return r;
}

std::string make_temp_dir(const std::string& base) {
  std::string pattern = base + "/reef-append-bench-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  if (::mkdtemp(buffer.data()) == nullptr) die("mkdtemp " + pattern + ": " + std::strerror(errno));
  return std::string(buffer.data());
}

int run(int argc, char** argv) {
  double seconds = 3.0;
  std::string base;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--quick") {
      seconds = 0.5;
    } else if (arg.starts_with("--seconds=")) {
      seconds = std::atof(std::string(arg.substr(10)).c_str());
      if (!(seconds > 0)) die("--seconds must be positive");
    } else if (arg.starts_with("--dir=")) {
      base = std::string(arg.substr(6));
    } else {
      std::fprintf(stderr, "usage: %s [--quick | --seconds=<s>] [--dir=<path>]\n", argv[0]);
      return 2;
    }
  }
  if (base.empty()) {
    const char* tmpdir = std::getenv("TMPDIR");
    base = tmpdir != nullptr && *tmpdir != '\0' ? tmpdir : ".";
  }
  g_temp_dir = make_temp_dir(base);
  std::printf("directory: %s\ntime budget per configuration: %.2f s (LogStore, raw and grow alternate)\n\n",
              g_temp_dir.c_str(), seconds);
  std::printf("%7s %8s %10s %7s | %10s %10s %12s | %10s %10s %12s | %6s %6s %6s | %10s %6s\n", "entries",
              "payload", "bytes/call", "calls", "log p50us", "log p99us", "log entry/s", "raw p50us", "raw p99us",
              "raw entry/s", "p50 x", "p99 x", "e/s x", "grow p50us", "grow x");
  std::fflush(stdout);

  prod::PosixFileSystem fs;
  for (size_t payload : {size_t{100}, size_t{1024}}) {
    for (size_t entries : {size_t{1}, size_t{16}, size_t{256}}) {
      const Result r = run_config(fs, entries, payload, seconds);
      std::printf("%7zu %8zu %10" PRIu64 " %7" PRIu64
                  " | %10.1f %10.1f %12.0f | %10.1f %10.1f %12.0f | %6.2f %6.2f %6.2f | %10.1f %6.2f\n",
                  r.entries, r.payload_bytes, r.bytes_per_call, r.calls, r.log.median_us, r.log.p99_us,
                  r.log.entries_per_second, r.raw.median_us, r.raw.p99_us, r.raw.entries_per_second,
                  r.log.median_us / r.raw.median_us, r.log.p99_us / r.raw.p99_us,
                  r.log.entries_per_second / r.raw.entries_per_second, r.grow.median_us,
                  r.grow.median_us / r.raw.median_us);
      std::fflush(stdout);
    }
  }
  cleanup();
  return 0;
}

}  // namespace
}  // namespace reef::bench

int main(int argc, char** argv) { return reef::bench::run(argc, argv); }
