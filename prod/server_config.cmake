# reef_server_config: the server's configuration (defaults, YAML file,
# REEFDB_* environment, flags, validation) and its metrics registry with the
# node's metric set. Pure logic: no sockets, no threads.
find_package(yaml-cpp REQUIRED)  # Debian libyaml-cpp-dev; imported target yaml-cpp
add_library(reef_server_config
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_describe.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_env.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_flags.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_load.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_settings.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_values.cc
  ${CMAKE_CURRENT_LIST_DIR}/config/server_config_yaml.cc
  ${CMAKE_CURRENT_LIST_DIR}/observe/metrics.cc
  ${CMAKE_CURRENT_LIST_DIR}/observe/node_metrics.cc
)
target_link_libraries(reef_server_config
  PUBLIC reef_raft reef_storage absl::status absl::statusor absl::strings absl::str_format absl::btree absl::span
  PRIVATE yaml-cpp)
reef_strict(reef_server_config)
