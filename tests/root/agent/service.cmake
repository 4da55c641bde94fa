# vmrt-agent driven through its ttrpc API on a Unix socket (included from
# CMakeLists.txt here): needs root, no KVM.
vmrt_gtest(root_agent_service root
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_service_client.cpp
    ${CMAKE_CURRENT_LIST_DIR}/agent_service_host_test.cpp
    ${CMAKE_CURRENT_LIST_DIR}/agent_service_sandbox_test.cpp
    ${PROJECT_SOURCE_DIR}/tests/support/scratch_netns.cpp
  LIBS vmrt_agent_proto vmrt_ttrpc vmrt_common vmrt_test_watchdog)
target_compile_definitions(root_agent_service PRIVATE VMRT_AGENT_BIN="$<TARGET_FILE:vmrt-agent>")
add_dependencies(root_agent_service vmrt-agent)

# The client side of tools/bench/agent.sh (not a test).
add_executable(agent_service_bench ${CMAKE_CURRENT_LIST_DIR}/agent_service_bench.cpp
  ${CMAKE_CURRENT_LIST_DIR}/agent_service_client.cpp)
target_link_libraries(agent_service_bench PRIVATE vmrt_agent_proto vmrt_ttrpc vmrt_common vmrt_test_proc_status)
target_compile_definitions(agent_service_bench PRIVATE VMRT_AGENT_BIN="$<TARGET_FILE:vmrt-agent>")
add_dependencies(agent_service_bench vmrt-agent)

# The agent in a real guest under vmrt-vmm, reached over hybrid vsock, with a
# bundle shared over virtio-fs: runs inside tools/testvm (label rig).
add_executable(agent_service_vm_test ${CMAKE_CURRENT_LIST_DIR}/agent_service_vm_test.cpp
  ${CMAKE_CURRENT_LIST_DIR}/agent_service_client.cpp)
target_link_libraries(agent_service_vm_test PRIVATE vmrt_agent_proto vmrt_ttrpc vmrt_common GTest::gtest
  GTest::gtest_main GTest::gmock vmrt_test_watchdog)
target_compile_definitions(agent_service_vm_test PRIVATE
  VMRT_AGENT_BIN="$<TARGET_FILE:vmrt-agent>"
  VMRT_VMM="$<TARGET_FILE:vmrt-vmm>"
  VMRT_GUEST_VMLINUX="${VMRT_GUEST_VMLINUX}"
  VMRT_AGENT_INITRAMFS="${CMAKE_BINARY_DIR}/rootfs-image/initramfs.cpio.gz")
add_dependencies(agent_service_vm_test rootfs-image vmrt-vmm)
add_test(NAME rig.agent_service_vm
  COMMAND ${PROJECT_SOURCE_DIR}/tools/testvm --timeout 900 -- $<TARGET_FILE:agent_service_vm_test>)
set_tests_properties(rig.agent_service_vm PROPERTIES LABELS rig RESOURCE_LOCK testvm TIMEOUT 960)
