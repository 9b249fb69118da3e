# Real `reefdb serve` processes on 127.0.0.1 (label prod).
find_package(Boost REQUIRED)
find_package(nlohmann_json REQUIRED)
reef_test(cluster_process_test LABEL prod
  SOURCES cluster_process_test.cc support/process_cluster.cc
  LIBS reef_transport Boost::boost nlohmann_json::nlohmann_json absl::strings GTest::gmock)
target_compile_definitions(cluster_process_test PRIVATE REEFDB_BINARY="$<TARGET_FILE:reefdb>")
add_dependencies(cluster_process_test reefdb)
target_include_directories(cluster_process_test PRIVATE ${CMAKE_SOURCE_DIR})
set_tests_properties(cluster_process_test PROPERTIES TIMEOUT 600)
