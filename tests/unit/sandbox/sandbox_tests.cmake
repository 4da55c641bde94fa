vmrt_gtest(unit_sandbox unit
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/vmm_command_test.cpp ${CMAKE_CURRENT_LIST_DIR}/vmm_cgroup_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/cgroup_path_test.cpp ${CMAKE_CURRENT_LIST_DIR}/cgroup_hierarchy_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/file_tail_test.cpp ${CMAKE_CURRENT_LIST_DIR}/agent_client_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/host_kvm_test.cpp ${CMAKE_CURRENT_LIST_DIR}/vm_size_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/vm_resize_test.cpp ${CMAKE_CURRENT_LIST_DIR}/container_calls_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/port_relay_test.cpp ${CMAKE_CURRENT_LIST_DIR}/guest_network_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/io_relay_test.cpp ${CMAKE_CURRENT_LIST_DIR}/template_record_test.cpp
  LIBS vmrt_sandbox)
