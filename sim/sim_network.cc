#include "sim/sim_network.h"

#include "absl/strings/str_cat.h"

namespace reef::sim {

class SimNetwork::Endpoint final : public raft::Transport {
 public:
  explicit Endpoint(SimNetwork* network) : network_(network) {}
  void send(raft::NodeMessage message) override { network_->send(std::move(message)); }

 private:
  SimNetwork* network_;
};

SimNetwork::SimNetwork(Scheduler& scheduler, uint64_t seed, Deliver deliver)
    : scheduler_(scheduler), rng_(seed), deliver_(std::move(deliver)) {}

SimNetwork::~SimNetwork() = default;

raft::Transport& SimNetwork::endpoint(raft::NodeId id) {
  for (auto& [owner, endpoint] : endpoints_) {
    if (owner == id) return *endpoint;
  }
  endpoints_.emplace_back(id, std::make_unique<Endpoint>(this));
  return *endpoints_.back().second;
}

void SimNetwork::cut_both(raft::NodeId a, raft::NodeId b) {
  cut(a, b);
  cut(b, a);
}

void SimNetwork::isolate(raft::NodeId node, const std::vector<raft::NodeId>& all) {
  for (raft::NodeId other : all) {
    if (other != node) cut_both(node, other);
  }
}

void SimNetwork::split(const std::vector<std::vector<raft::NodeId>>& groups) {
  for (size_t i = 0; i < groups.size(); ++i) {
    for (size_t j = 0; j < groups.size(); ++j) {
      if (i == j) continue;
      for (raft::NodeId a : groups[i]) {
        for (raft::NodeId b : groups[j]) cut(a, b);
      }
    }
  }
}

void SimNetwork::send(raft::NodeMessage message) {
  ++stats_.sent;
  if (observer_ && !observer_(message)) {
    ++stats_.died_with_sender;
    return;
  }
  if (is_cut(message.from, message.to)) {
    ++stats_.cut;
    return;
  }
  if (rng_.chance(faults_.loss_per_million, 1000000)) {
    ++stats_.lost;
    return;
  }
  // The label is the message as sent: it names the event in the trace and
  // the message in an assertion if its bytes do not decode.
  std::string label = absl::StrCat("deliver ", raft::describe(message));
  std::string frame = wire_.encode(message);
  if (rng_.chance(faults_.duplicate_per_million, 1000000)) {
    ++stats_.duplicated;
    schedule_delivery(message.from, message.to, label, frame);
  }
  schedule_delivery(message.from, message.to, std::move(label), std::move(frame));
}

void SimNetwork::schedule_delivery(raft::NodeId from, raft::NodeId to, std::string label, std::string frame) {
  const uint64_t latency = rng_.between(faults_.latency_min_us, faults_.latency_max_us);
  std::string event = label;
  scheduler_.schedule_after(latency, std::move(event),
                            [this, from, to, what = std::move(label), bytes = std::move(frame)] {
                              if (is_cut(from, to)) {
                                ++stats_.cut;
                                return;
                              }
                              ++stats_.delivered;
                              deliver_(wire_.decode(bytes, from, to, what));
                            });
}

}  // namespace reef::sim
