# The CLI's state directories and signal names (included from CMakeLists.txt
# here): no root needed, the state root is a temporary directory.
vmrt_gtest(unit_cli_state unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/state_store_test.cpp ${CMAKE_CURRENT_LIST_DIR}/state_record_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/process_id_test.cpp ${CMAKE_CURRENT_LIST_DIR}/signal_names_test.cpp
  LIBS vmrt_cli_state)
