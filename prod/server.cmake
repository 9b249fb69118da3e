# The production server: ServerNode (raft::Node over POSIX storage on a
# storage thread, AsioTransport, SQLite), what it measures and logs about
# itself (NodeObserver, spdlog), and the HTTP API service.
find_package(spdlog REQUIRED)
add_library(reef_server
  server/server_node.cc
  server/storage_thread_log.cc
  observe/node_observer.cc
  observe/peer_log_throttle.cc
  server/timed_state_machine.cc
  server/http_api_service.cc
)
find_package(Threads REQUIRED)
target_link_libraries(reef_server PUBLIC reef_prod reef_raft reef_statemachine reef_asio_transport reef_http_api
                                         reef_server_config Threads::Threads spdlog::spdlog)
reef_strict(reef_server)

# reefdb: serve, dev-cluster, sql, status, storage.
add_library(reef_server_commands
  server/serve_command.cc
  server/dev_cluster_command.cc
  server/dev_cluster_console.cc
  server/dev_cluster_nodes.cc
  server/wait_status.cc
)
target_link_libraries(reef_server_commands PUBLIC reef_server reef_http_server spdlog::spdlog)
reef_strict(reef_server_commands)
add_executable(reefdb reefdb_main.cc)
target_link_libraries(reefdb PRIVATE reef_server_commands reef_prod reef_cli)
set_target_properties(reefdb PROPERTIES OUTPUT_NAME reefdb)
reef_strict(reefdb)
