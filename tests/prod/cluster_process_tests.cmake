# Real `reefdb serve` processes on 127.0.0.1 (label prod).
find_package(Boost REQUIRED)
find_package(nlohmann_json REQUIRED)

# ProcessCluster (support/process_cluster.h), shared by the process tests.
add_library(reef_process_cluster_testing STATIC support/process_cluster.cc)
target_include_directories(reef_process_cluster_testing PUBLIC ${CMAKE_SOURCE_DIR})
target_link_libraries(reef_process_cluster_testing PUBLIC Boost::boost nlohmann_json::nlohmann_json absl::strings)
reef_strict(reef_process_cluster_testing)

# A `reefdb serve` whose leader commits without a quorum: the kill-the-leader
# check must catch the writes it loses (never installed; see its source).
add_executable(reefdb_commit_without_quorum process/reefdb_commit_without_quorum_main.cc)
target_link_libraries(reefdb_commit_without_quorum PRIVATE reef_server_commands)
set_target_properties(reefdb_commit_without_quorum PROPERTIES OUTPUT_NAME reefdb-commit-without-quorum)
reef_strict(reefdb_commit_without_quorum)

reef_test(cluster_process_test LABEL prod
  SOURCES process/cluster_process_test.cc
  LIBS reef_process_cluster_testing reef_transport GTest::gmock)
target_compile_definitions(cluster_process_test PRIVATE REEFDB_BINARY="$<TARGET_FILE:reefdb>"
  REEFDB_COMMIT_WITHOUT_QUORUM_BINARY="$<TARGET_FILE:reefdb_commit_without_quorum>")
add_dependencies(cluster_process_test reefdb reefdb_commit_without_quorum)
set_tests_properties(cluster_process_test PROPERTIES TIMEOUT 600)

# /metrics and the log of real processes: disk, snapshot, round-trip series.
reef_test(metrics_process_test LABEL prod
  SOURCES process/metrics_process_test.cc
  LIBS reef_process_cluster_testing reef_transport GTest::gmock)
target_compile_definitions(metrics_process_test PRIVATE REEFDB_BINARY="$<TARGET_FILE:reefdb>")
add_dependencies(metrics_process_test reefdb)
set_tests_properties(metrics_process_test PROPERTIES TIMEOUT 600)

# `reefdb dev-cluster` itself: a SIGKILLed node is reported while the others
# serve, `restart N` on stdin brings it back, Ctrl-C stops every node.
reef_test(dev_cluster_process_test LABEL prod
  SOURCES process/dev_cluster_process_test.cc
  LIBS reef_process_cluster_testing GTest::gmock)
target_compile_definitions(dev_cluster_process_test PRIVATE REEFDB_BINARY="$<TARGET_FILE:reefdb>")
add_dependencies(dev_cluster_process_test reefdb)
set_tests_properties(dev_cluster_process_test PROPERTIES TIMEOUT 120)
