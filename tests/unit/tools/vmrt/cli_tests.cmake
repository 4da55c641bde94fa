vmrt_gtest(unit_cli unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exec_process_test.cpp ${CMAKE_CURRENT_LIST_DIR}/resources_flags_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_create_test.cpp ${CMAKE_CURRENT_LIST_DIR}/runc_stats_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_events_test.cpp
  LIBS vmrt_cli)
find_package(ZLIB REQUIRED)  # the test writes gzip images
vmrt_gtest(unit_cli_check unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/host_check_test.cpp
  LIBS vmrt_cli_check ZLIB::ZLIB)
