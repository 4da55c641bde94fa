# The agent service's request checks (included from CMakeLists.txt here).
vmrt_gtest(unit_agent_service unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_service_request_test.cpp
  LIBS vmrt_agent_requests)
# The pod network request: checks and translation to kernel terms, the
# containers' network namespace rule.
vmrt_gtest(unit_agent_network unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/network_config_test.cpp
  LIBS vmrt_agent_network)
# The agent's method list against agent.proto, its OOM kill log and its
# vsock peer check.
vmrt_gtest(unit_agent_protocol unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_methods_test.cpp ${CMAKE_CURRENT_LIST_DIR}/oom_log_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/peer_check_test.cpp
  LIBS vmrt_agent_service vmrt_protobuf_full)
# The method list is checked against agent.proto's descriptor (the lite
# generated code has none).
set(agent_descriptor_set ${CMAKE_CURRENT_BINARY_DIR}/agent.protoset)
add_custom_command(
  OUTPUT ${agent_descriptor_set}
  COMMAND ${PROTOC} -I ${PROJECT_SOURCE_DIR} --descriptor_set_out=${agent_descriptor_set} proto/agent.proto
  DEPENDS ${PROJECT_SOURCE_DIR}/proto/agent.proto
  COMMENT "descriptor set of agent.proto"
  VERBATIM)
add_custom_target(unit_agent_protocol_descriptor DEPENDS ${agent_descriptor_set})
add_dependencies(unit_agent_protocol unit_agent_protocol_descriptor)
target_compile_definitions(unit_agent_protocol PRIVATE
  VMRT_AGENT_DESCRIPTOR_SET="${agent_descriptor_set}")
