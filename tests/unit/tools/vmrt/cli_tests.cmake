vmrt_gtest(unit_cli unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/exec_process_test.cpp ${CMAKE_CURRENT_LIST_DIR}/resources_flags_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_create_test.cpp ${CMAKE_CURRENT_LIST_DIR}/runc_stats_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cmd_events_test.cpp
  LIBS vmrt_cli)
