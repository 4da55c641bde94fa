# The agent service's request checks (included from CMakeLists.txt here).
vmrt_gtest(unit_agent_service unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/service/request_parse_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/service/listen_address_test.cpp
  LIBS vmrt_agent_requests)
# The pod network request: checks and translation to kernel terms, the
# containers' network namespace rule.
vmrt_gtest(unit_agent_network unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/network/network_config_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/network/network_config_ipv6_test.cpp
  LIBS vmrt_agent_network)
# The agent's OOM kill log, its vsock peer check and its CPU hotplug.
vmrt_gtest(unit_agent_protocol unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/service/oom_log_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/service/peer_check_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/service/port_forwarder_test.cpp
          ${CMAKE_CURRENT_LIST_DIR}/init/cpu_online_test.cpp
  LIBS vmrt_agent_service)
