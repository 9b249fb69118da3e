// A tiny deterministic key-value state machine for driver and simulator
// tests that are about replication, not SQL: payload "key=value" sets a key
// and answers its previous value; a query "key" answers the value ("" when
// unset). Its snapshot is a text image of the map and its position.
//
// Given a Disk, it is persistent and writes through: every apply and restore
// lands there at once (durable as it returns), and a machine made on the
// same Disk reopens at that position, as ReefDB's on-disk SQL state machine
// does (raft/ports/state_machine.h, "Persistence").
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "raft/ports/state_machine.h"

namespace reef::sim::testing {

class KvStateMachine final : public raft::StateMachine {
 public:
  struct Disk {
    std::map<std::string, std::string> data;
    raft::AppliedPosition applied;
  };

  KvStateMachine() = default;
  explicit KvStateMachine(std::shared_ptr<Disk> disk) : disk_(std::move(disk)) {
    data_ = disk_->data;
    applied_ = disk_->applied;
  }

  absl::StatusOr<std::string> apply(const raft::LogEntry& entry) override {
    applied_ = raft::AppliedPosition{entry.index, entry.term};
    ++applied_count_;
    std::string previous;
    if (entry.type == raft::EntryType::kNormal) {
      const size_t eq = entry.payload.find('=');
      if (eq == std::string::npos) return std::string("error: no '='");
      std::string& slot = data_[entry.payload.substr(0, eq)];
      previous = slot;
      slot = entry.payload.substr(eq + 1);
    }
    write_through();
    return previous;
  }
  raft::AppliedPosition applied() const override { return applied_; }
  absl::StatusOr<std::string> prepare_proposal(std::string_view payload, uint64_t) override {
    if (payload.find('=') == std::string_view::npos) {
      return absl::InvalidArgumentError("kv: a write is key=value");
    }
    return std::string(payload);
  }
  absl::StatusOr<std::string> query(std::string_view request) override {
    auto it = data_.find(std::string(request));
    return it == data_.end() ? std::string() : it->second;
  }
  absl::StatusOr<std::unique_ptr<raft::StateMachineSnapshot>> snapshot(
      const raft::Configuration& configuration) override {
    std::string image = absl::StrCat(applied_.index.value(), " ", applied_.term.value(), "\n");
    for (raft::NodeId id : configuration.voters.voters()) absl::StrAppend(&image, id.value(), ",");
    image += "\n";
    for (const auto& [k, v] : data_) absl::StrAppend(&image, k, "=", v, "\n");
    return std::unique_ptr<raft::StateMachineSnapshot>(
        new Snapshot(raft::SnapshotMeta{applied_.index, applied_.term, configuration}, std::move(image)));
  }
  absl::StatusOr<std::unique_ptr<raft::StateMachineRestore>> begin_restore() override {
    return std::unique_ptr<raft::StateMachineRestore>(new Restore(this));
  }

  const std::map<std::string, std::string>& data() const { return data_; }
  uint64_t applied_count() const { return applied_count_; }

 private:
  void write_through() {
    if (disk_ == nullptr) return;
    disk_->data = data_;
    disk_->applied = applied_;
  }

  class Snapshot final : public raft::StateMachineSnapshot {
   public:
    Snapshot(raft::SnapshotMeta meta, std::string image) : meta_(std::move(meta)), image_(std::move(image)) {}
    const raft::SnapshotMeta& meta() const override { return meta_; }
    uint64_t size_bytes() const override { return image_.size(); }
    absl::StatusOr<std::optional<std::string>> next_chunk(uint64_t max_bytes) override {
      if (offset_ >= image_.size()) return std::optional<std::string>();
      std::string chunk = image_.substr(offset_, max_bytes);
      offset_ += chunk.size();
      return std::optional<std::string>(std::move(chunk));
    }

   private:
    raft::SnapshotMeta meta_;
    std::string image_;
    uint64_t offset_ = 0;
  };

  class Restore final : public raft::StateMachineRestore {
   public:
    explicit Restore(KvStateMachine* target) : target_(target) {}
    absl::Status add_chunk(std::string_view bytes) override {
      image_.append(bytes);
      return absl::OkStatus();
    }
    absl::StatusOr<raft::SnapshotMeta> finish() override {
      std::vector<std::string> lines = absl::StrSplit(image_, '\n');
      if (lines.size() < 2) return absl::DataLossError("kv snapshot: truncated");
      std::vector<std::string> position = absl::StrSplit(lines[0], ' ');
      uint64_t index = 0;
      uint64_t term = 0;
      if (position.size() != 2 || !absl::SimpleAtoi(position[0], &index) || !absl::SimpleAtoi(position[1], &term)) {
        return absl::DataLossError("kv snapshot: bad position line");
      }
      std::vector<raft::NodeId> voters;
      for (absl::string_view id : absl::StrSplit(lines[1], ',', absl::SkipEmpty())) {
        uint64_t v = 0;
        if (!absl::SimpleAtoi(id, &v)) return absl::DataLossError("kv snapshot: bad voter");
        voters.push_back(raft::NodeId(v));
      }
      std::map<std::string, std::string> data;
      for (size_t i = 2; i < lines.size(); ++i) {
        if (lines[i].empty()) continue;
        const size_t eq = lines[i].find('=');
        if (eq == std::string::npos) return absl::DataLossError("kv snapshot: bad line");
        data[lines[i].substr(0, eq)] = lines[i].substr(eq + 1);
      }
      target_->data_ = std::move(data);
      target_->applied_ = raft::AppliedPosition{raft::Index(index), raft::Term(term)};
      target_->write_through();
      return raft::SnapshotMeta{raft::Index(index), raft::Term(term), raft::Configuration::of_voters(voters)};
    }

   private:
    KvStateMachine* target_;
    std::string image_;
  };

  std::shared_ptr<Disk> disk_;
  std::map<std::string, std::string> data_;
  raft::AppliedPosition applied_;
  uint64_t applied_count_ = 0;
};

}  // namespace reef::sim::testing
