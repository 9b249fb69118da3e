# Server configuration and metrics suites (label: prod).
reef_test(prod_server_config_test LABEL prod
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/server_config_test.cc
  LIBS reef_server_config GTest::gmock)
reef_test(prod_server_config_sources_test LABEL prod
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/config/server_config_sources_test.cc
  LIBS reef_server_config GTest::gmock)
target_compile_definitions(prod_server_config_sources_test PRIVATE
  REEF_EXAMPLE_CONFIG="${CMAKE_SOURCE_DIR}/docs/reefdb.example.yaml")
reef_test(prod_metrics_test LABEL prod
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/observe/metrics_test.cc
  LIBS reef_server_config GTest::gmock)
# What the node measures about itself and logs (label: prod): NodeObserver,
# PeerLogThrottle, TimedStateMachine, StorageThreadLog's timing hooks.
reef_test(prod_node_observer_test LABEL prod
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/observe/node_observer_test.cc
  LIBS reef_server GTest::gmock)
