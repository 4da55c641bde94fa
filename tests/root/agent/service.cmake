# vmrt-agent driven through its gRPC API on a Unix socket (included from
# CMakeLists.txt here): needs root, no KVM.
vmrt_gtest(root_agent_service root
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_service_client.cpp
    ${CMAKE_CURRENT_LIST_DIR}/agent_service_host_test.cpp
  LIBS vmrt_agent_proto vmrt_common)
target_compile_definitions(root_agent_service PRIVATE VMRT_AGENT_BIN="$<TARGET_FILE:vmrt-agent>")
add_dependencies(root_agent_service vmrt-agent)

# The client side of tools/bench/agent.sh (not a test).
add_executable(agent_service_bench ${CMAKE_CURRENT_LIST_DIR}/agent_service_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/agent_service_client.cpp)
target_link_libraries(agent_service_bench PRIVATE vmrt_agent_proto vmrt_common)
target_compile_definitions(agent_service_bench PRIVATE VMRT_AGENT_BIN="$<TARGET_FILE:vmrt-agent>")
add_dependencies(agent_service_bench vmrt-agent)
