#include "prod/server/serve_command.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "prod/config/server_config.h"
#include "prod/config/server_config_sources.h"
#include "prod/http/http_server.h"
#include "prod/server/address_registrar.h"
#include "prod/server/http_api_service.h"
#include "prod/server/join_client.h"
#include "prod/server/learner_promoter.h"
#include "prod/server/membership_admin.h"
#include "prod/server/server_node.h"
#include "storage/node_identity.h"
#include "storage/peer_incarnations.h"

namespace reef::prod {
namespace {

constexpr int kExitOk = 0;
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

uint64_t fresh_seed() {
  std::random_device device;
  return (static_cast<uint64_t>(device()) << 32) ^ device();
}

// A data directory's incarnation: random, never 0 (0 means "unknown" on the wire).
uint64_t fresh_incarnation() {
  uint64_t incarnation = 0;
  while (incarnation == 0) incarnation = fresh_seed();
  return incarnation;
}

// The node id DIR/identity holds, if it is there and readable; a damaged
// file is reported when the node's storage opens it.
std::optional<uint64_t> remembered_node_id(const std::string& data_dir) {
  PosixFileSystem fs;
  absl::StatusOr<std::optional<storage::NodeIdentity>> identity = storage::read_node_identity(fs, data_dir);
  if (!identity.ok() || !identity->has_value()) return std::nullopt;
  return (*identity)->node_id.value();
}

spdlog::level::level_enum spdlog_level(LogLevel level) {
  switch (level) {
    case LogLevel::kTrace: return spdlog::level::trace;
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

// A directory that has talked to other members (it remembers their
// incarnations) must not be restarted as a cluster of one just because
// --peers was forgotten: it would elect itself and diverge from the others.
// The refusal (empty: none) is applied at boot, and only if the
// configuration of one would be in force (ServerNodeOptions).
std::string single_node_refusal(const ServerConfig& config) {
  if (!peers_default_to_single_node(config)) return "";
  PosixFileSystem fs;
  absl::StatusOr<std::unique_ptr<storage::PeerIncarnations>> peers =
      storage::PeerIncarnations::open(fs, config.data_dir);
  if (!peers.ok()) return "";  // the node's boot reports the damage
  std::vector<std::string> others;
  for (const auto& [peer, incarnation] : (*peers)->remembered()) {
    if (peer.value() != config.node_id) others.push_back(absl::StrCat(peer.value()));
  }
  if (others.empty()) return "";
  return absl::StrCat(
      "no peers given, but data directory ", config.data_dir, " belongs to a cluster with other members (nodes ",
      absl::StrJoin(others, ", "), ", remembered in ", config.data_dir, "/",
      storage::PeerIncarnations::kFileName,
      "); started alone it would elect itself and diverge from them. Give the cluster's --peers, or --join for a "
      "node that joined");
}

ServerNodeOptions node_options(const ServerConfig& config, raft::NodeConfig node, uint64_t seed) {
  ServerNodeOptions options;
  options.node = std::move(node);
  options.data_dir = config.data_dir;
  options.reads = ReadPoolOptions{config.requests.read_threads, config.requests.max_queued_reads,
                                  config.requests.read_timeout_ms};
  options.tick_ms = config.raft.tick_ms;
  options.identity = storage::IdentityClaim{cluster_id(config.cluster_name), config.cluster_name,
                                            raft::NodeId(config.node_id), fresh_incarnation()};
  options.refuse_bootstrap_alone = single_node_refusal(config);
  std::vector<raft::NodeId> voters;
  for (const PeerConfig& peer : config.peers) voters.push_back(peer.id);
  std::sort(voters.begin(), voters.end());
  // A joining node starts with no configuration: it learns it from the
  // leader's log or snapshot once it was added, and cannot campaign before.
  options.initial_configuration.voters = raft::MajorityConfig(voters);
  for (const PeerConfig& peer : config.peers) {
    options.address_seeds[peer.id] = MemberAddresses{peer.raft_address.to_string(), peer.http_address.to_string()};
  }
  if (!config.join.empty()) {
    options.address_seeds[raft::NodeId(config.node_id)] =
        MemberAddresses{config.raft.advertise_address->to_string(), config.http.advertise_address->to_string()};
  }
  options.transport.self = raft::NodeId(config.node_id);
  options.transport.cluster_id = cluster_id(config.cluster_name);
  options.transport.listen_address = config.raft.listen_address->to_string();
  for (const PeerConfig& peer : config.peers) {
    if (peer.id != raft::NodeId(config.node_id)) options.transport.peers[peer.id] = peer.raft_address.to_string();
  }
  options.transport.max_frame_bytes = static_cast<uint32_t>(config.limits.max_frame_bytes);
  options.transport.max_peer_queue_messages = config.limits.peer_send_queue_messages;
  // Room for two frames of the largest size: one being written, one waiting.
  options.transport.max_peer_queue_bytes =
      std::max<uint64_t>(options.transport.max_peer_queue_bytes, 2 * config.limits.max_frame_bytes);
  options.transport.jitter_seed = seed;
  return options;
}

// The running process: node, HTTP server, signal handling, and a watcher
// that logs role and leader changes.
class Server {
 public:
  Server(boost::asio::io_context& loop, const ServerConfig& config)
      : loop_(loop), config_(config), signals_(loop, SIGINT, SIGTERM), watch_timer_(loop), stop_timer_(loop) {}

  absl::Status start(uint64_t seed, const NodeConfigAdjustment& adjust) {
    absl::StatusOr<raft::NodeConfig> node_config = to_node_config(config_, seed);
    if (!node_config.ok()) return node_config.status();
    if (adjust) {
      adjust(*node_config);
      if (node_config->core.bugs.any()) spdlog::warn("TEST BUILD: deliberate Raft bugs are switched on");
    }
    absl::StatusOr<std::unique_ptr<ServerNode>> node =
        ServerNode::start(loop_, node_options(config_, *std::move(node_config), seed));
    if (!node.ok()) return node.status();
    node_ = *std::move(node);
    for (const std::string& note : node_->recovery_notes()) spdlog::warn("recovery: {}", note);
    membership_ = std::make_unique<MembershipAdmin>(*node_, config_.requests.timeout_ms);
    promoter_ = std::make_unique<LearnerPromoter>(*node_, *membership_);
    registrar_ = std::make_unique<AddressRegistrar>(*node_, *membership_);
    service_ = std::make_unique<HttpApiService>(*node_, config_, *membership_);
    HttpServerOptions http_options;
    http_options.listen_address = config_.http.listen_address->to_string();
    http_options.max_body_bytes = config_.limits.max_http_body_bytes;
    http_options.on_finished = [this](const std::string& method, int status, double seconds) {
      service_->request_finished(method, status, seconds);
    };
    absl::StatusOr<std::unique_ptr<HttpServer>> http = HttpServer::create(
        loop_, http_options,
        [this](http::HttpRequest request, std::function<void(http::HttpResponse)> respond) {
          service_->handle(std::move(request), std::move(respond));
        });
    if (!http.ok()) return http.status();
    http_ = *std::move(http);
    spdlog::info("node {} of cluster '{}' serving: raft on {}, http on {}, data in {}", config_.node_id,
                 config_.cluster_name, config_.raft.listen_address->to_string(),
                 config_.http.listen_address->to_string(), config_.data_dir);
    signals_.async_wait([this](const boost::system::error_code& error, int signal) {
      if (!error) begin_shutdown(signal);
    });
    watch();
    if (!config_.join.empty()) start_join();
    return absl::OkStatus();
  }

  ~Server() {
    cancel_join_ = true;
    if (join_thread_.joinable()) join_thread_.join();
  }

  int exit_status() const { return exit_status_; }

 private:
  // --join: a node whose data directory holds no Raft state asks a member
  // to add it, on a thread (the loop meanwhile takes the leader's first
  // entries); one that already took part in the cluster just starts.
  void start_join() {
    if (!node_->booted_fresh()) {
      spdlog::info("join: {} already holds this node's cluster state; starting as the member it is",
                   config_.data_dir);
      return;
    }
    JoinRequest request;
    request.node_id = config_.node_id;
    request.raft_address = config_.raft.advertise_address->to_string();
    request.http_address = config_.http.advertise_address->to_string();
    const absl::StatusOr<std::vector<Endpoint>> members = join_addresses(config_);  // validated at load
    if (members.ok()) {
      for (const Endpoint& member : *members) request.members.push_back(member.to_string());
    }
    spdlog::info("join: asking {} to add node {} (raft {}, http {})", config_.join, request.node_id,
                 request.raft_address, request.http_address);
    join_thread_ = std::thread([this, request = std::move(request)] {
      JoinAnswer added;
      absl::Status status = join_cluster(request, cancel_join_, added);
      boost::asio::post(loop_, [this, status = std::move(status), added = std::move(added)] {
        joined(status, added);
      });
    });
  }

  void joined(const absl::Status& status, const JoinAnswer& added) {
    if (status.ok()) {
      std::map<raft::NodeId, MemberAddresses> members;
      for (const auto& [id, addresses] : added.members) {
        members[raft::NodeId(id)] = MemberAddresses{addresses.first, addresses.second};
      }
      node_->learn_addresses(members);
      return spdlog::info("join: added as a learner ({}); promoted to voter once caught up", added.configuration);
    }
    if (shutting_down_ || status.code() == absl::StatusCode::kCancelled) return;
    spdlog::critical("join: {}", std::string(status.message()));
    exit_status_ = kExitFailed;
    finish_shutdown();
  }

  // Logs what an operator wants to see in the log: elections won and lost,
  // leader changes, and the node stopping itself.
  void watch() {
    const raft::NodeStatus s = node_->status();
    if (s.role != last_role_ || s.leader != last_leader_ || s.term != last_term_) {
      if (s.leader != last_leader_) {
        if (s.leader) {
          spdlog::info("term {}: leader is node {}{}", s.term.value(), s.leader->value(),
                       s.role == raft::Role::kLeader ? " (this node)" : "");
        } else {
          spdlog::info("term {}: no leader known ({})", s.term.value(), raft::role_name(s.role));
        }
      }
      last_role_ = s.role;
      last_leader_ = s.leader;
      last_term_ = s.term;
    }
    if (node_->refused_by_peer() && !shutting_down_) {
      // PeerIdentityGuard logged why and what to do.
      exit_status_ = kExitFailed;
      finish_shutdown();
      return;
    }
    registrar_->check();
    promoter_->check();
    note_removal();
    if (s.stopped && !shutting_down_) {
      spdlog::critical("the node stopped itself after a disk error; restart it to recover from what is durable");
      exit_status_ = kExitFailed;
      finish_shutdown();
      return;
    }
    watch_timer_.expires_after(std::chrono::milliseconds(config_.raft.tick_ms));
    watch_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) watch();
    });
  }

  // A node that applies its own removal says so once: it keeps running
  // (answering reads of what it has) but takes no part any more.
  void note_removal() {
    const raft::Configuration& configuration = node_->core().configuration();
    const bool member = configuration.is_member(node_->id());
    if (was_member_ && !member && !configuration.empty()) {
      spdlog::warn("this node was removed from the cluster ({}); it no longer votes or receives entries: stop it "
                   "(docs/CLUSTER.md#what-a-removed-node-does)",
                   configuration.describe());
    }
    was_member_ = member;
  }

  void begin_shutdown(int signal) {
    shutting_down_ = true;
    spdlog::info("signal {}: shutting down", signal);
    // The most caught-up voter (nullopt unless this node leads): it needs
    // the fewest entries before it can take over, so the hand-over is quickest.
    const std::optional<raft::NodeId> successor = node_->handover_target();
    if (!successor) return finish_shutdown();
    spdlog::info("handing leadership to node {} first", successor->value());
    node_->transfer_leadership(*successor);
    shutdown_deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.raft.election_timeout_ms);
    wait_for_handover();
  }

  void wait_for_handover() {
    if (node_->status().role != raft::Role::kLeader || std::chrono::steady_clock::now() >= shutdown_deadline_) {
      if (node_->status().role == raft::Role::kLeader) spdlog::warn("leadership hand-over did not finish in time");
      return finish_shutdown();
    }
    stop_timer_.expires_after(std::chrono::milliseconds(config_.raft.tick_ms));
    stop_timer_.async_wait([this](const boost::system::error_code& error) {
      if (!error) wait_for_handover();
    });
  }

  void finish_shutdown() {
    watch_timer_.cancel();
    signals_.cancel();
    if (http_ != nullptr) http_->stop();
    node_->stop();
    spdlog::info("stopped (applied index {})", node_->status().applied.value());
    loop_.stop();
  }

  boost::asio::io_context& loop_;
  const ServerConfig& config_;
  boost::asio::signal_set signals_;
  boost::asio::steady_timer watch_timer_;
  boost::asio::steady_timer stop_timer_;
  std::unique_ptr<ServerNode> node_;
  std::unique_ptr<MembershipAdmin> membership_;
  std::unique_ptr<LearnerPromoter> promoter_;
  std::unique_ptr<AddressRegistrar> registrar_;
  std::unique_ptr<HttpApiService> service_;
  std::unique_ptr<HttpServer> http_;
  std::optional<raft::Role> last_role_;
  std::optional<raft::NodeId> last_leader_;
  raft::Term last_term_;
  bool shutting_down_ = false;
  bool was_member_ = false;
  std::chrono::steady_clock::time_point shutdown_deadline_;
  int exit_status_ = kExitOk;
  std::atomic<bool> cancel_join_ = false;
  std::thread join_thread_;
};

}  // namespace

int run_serve_command(const std::vector<std::string>& args) { return run_serve_command(args, nullptr); }

int run_serve_command(const std::vector<std::string>& args, const NodeConfigAdjustment& adjust) {
  absl::StatusOr<CommandLine> line = parse_command_line(args);
  if (!line.ok()) {
    std::fprintf(stderr, "reefdb serve: %s\n(reefdb serve --help lists the settings)\n",
                 std::string(line.status().message()).c_str());
    return kExitUsage;
  }
  if (line->help) {
    std::printf("Usage: reefdb serve [--config FILE] [--SETTING VALUE]...\n\n"
                "Runs one node. Settings come from defaults, then FILE (or $REEFDB_CONFIG), then\n"
                "REEFDB_* environment variables, then flags. docs/CONFIGURATION.md explains each.\n\n"
                "  reefdb serve --data-dir DIR\n"
                "      a single-node cluster: node 1 (or the id DIR remembers), HTTP on\n"
                "      127.0.0.1:4001, Raft on 127.0.0.1:4002\n"
                "  reefdb serve --node-id 2 --data-dir DIR --peers 1=h1:4002/h1:4001,2=h2:4002/h2:4001,...\n"
                "      one member of a cluster bootstrapped from a static list (every member is\n"
                "      started with the same --peers)\n"
                "  reefdb serve --node-id 4 --data-dir DIR --join h1:4001[,h2:4001] \\\n"
                "               --raft-listen-address h4:4002 --http-listen-address h4:4001\n"
                "      a new member of a running cluster: added as a learner, promoted to voter\n"
                "      once caught up (restarting with the same flags is a no-op join)\n\n"
                "Growing, replacing a dead machine and shrinking: docs/CLUSTER.md.\n\n"
                "A data directory remembers its node id and cluster from its first start\n"
                "(DIR/identity) and refuses to start as another.\n\n%s",
                command_line_usage().c_str());
    return kExitOk;
  }
  absl::StatusOr<ServerConfig> config = load_server_config(*line, process_environment(), remembered_node_id);
  if (!config.ok()) {
    std::fprintf(stderr, "reefdb serve: bad configuration:\n%s\n", std::string(config.status().message()).c_str());
    return kExitUsage;
  }
  spdlog::set_level(spdlog_level(config->log_level));
  spdlog::set_pattern(absl::StrCat("%Y-%m-%dT%H:%M:%S.%e %^%l%$ node=", config->node_id, " %v"));
  spdlog::info("configuration:\n{}", describe(*config));
  boost::asio::io_context loop(1);
  Server server(loop, *config);
  if (absl::Status status = server.start(fresh_seed(), adjust); !status.ok()) {
    spdlog::critical("cannot start: {}", status.ToString());
    return kExitFailed;
  }
  loop.run();
  return server.exit_status();
}

}  // namespace reef::prod
