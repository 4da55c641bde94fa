# vmrt_cli_state: the CLI's container state directories (state_store.h) and
# signal names (signal_names.h), apart from the commands so that unit tests
# link them without the sandbox library.
add_library(vmrt_cli_state STATIC
  ${CMAKE_CURRENT_LIST_DIR}/process_id.cpp
  ${CMAKE_CURRENT_LIST_DIR}/signal_names.cpp
  ${CMAKE_CURRENT_LIST_DIR}/state_record.cpp
  ${CMAKE_CURRENT_LIST_DIR}/state_store.cpp
)
target_link_libraries(vmrt_cli_state PUBLIC vmrt_common)
