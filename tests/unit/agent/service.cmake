# The agent service's request checks (included from CMakeLists.txt here).
vmrt_gtest(unit_agent_service unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_service_request_test.cpp
  LIBS vmrt_agent_requests)
# The pod network request: checks and translation to kernel terms, the
# containers' network namespace rule.
vmrt_gtest(unit_agent_network unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/network_config_test.cpp
  LIBS vmrt_agent_network)
# The agent's method list against agent.proto, and its OOM kill log.
vmrt_gtest(unit_agent_protocol unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_methods_test.cpp ${CMAKE_CURRENT_LIST_DIR}/oom_log_test.cpp
  LIBS vmrt_agent_service)
