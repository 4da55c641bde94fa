vmrt_gtest(unit_cli unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/cli_unit_test.cpp ${CMAKE_CURRENT_LIST_DIR}/create_refusal_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/runc_events_test.cpp
  LIBS vmrt_cli)
