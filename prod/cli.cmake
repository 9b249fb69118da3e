# reef_cli: the client side of the `reefdb` command: a blocking HTTP client,
# `reefdb sql` (the SQL shell) and `reefdb status`. See docs/CLI.md.
find_package(Boost REQUIRED)
find_package(nlohmann_json REQUIRED)
add_library(reef_cli
  ${CMAKE_CURRENT_LIST_DIR}/shell/http_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_args.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_cluster_client.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_commands.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_format.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_history.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_input.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/sql_shell_session.cc
  ${CMAKE_CURRENT_LIST_DIR}/shell/status_command.cc
)
# reef_http_api for the http:: message types, reef_statemachine for the
# statement classifier, reef_asio_transport for parse_host_port().
target_link_libraries(reef_cli PUBLIC reef_http_api reef_statemachine reef_asio_transport Boost::boost
  nlohmann_json::nlohmann_json absl::status absl::statusor absl::strings)
reef_strict(reef_cli)
