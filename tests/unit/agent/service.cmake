# The agent service's request checks (included from CMakeLists.txt here).
vmrt_gtest(unit_agent_service unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_service_request_test.cpp
  LIBS vmrt_agent_requests)
# The pod network request: checks and translation to kernel terms, the
# containers' network namespace rule.
vmrt_gtest(unit_agent_network unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/network_config_test.cpp
  LIBS vmrt_agent_network)
