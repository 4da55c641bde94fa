# containerd end to end with ctr: the harness (a private containerd with the
# build tree's shim, reused by the CRI tests) and the ctr tests, run with
# runc's shim and vmrt's side by side.

# /pause of the test pause image (CRI's sandbox_image): static, so that it
# runs in an image holding nothing else.
add_executable(vmrt_test_pause pause.c)
target_link_options(vmrt_test_pause PRIVATE -static)

add_library(vmrt_containerd_harness STATIC containerd_harness.cpp containerd_config.cpp
  containerd_images.cpp containerd_leftovers.cpp)
target_link_libraries(vmrt_containerd_harness PUBLIC vmrt_common vmrt_rig_support vmrt_test_watchdog_report)
target_compile_definitions(vmrt_containerd_harness PRIVATE
  VMRT_SHIM="$<TARGET_FILE:containerd-shim-vmrt-v1>"
  VMRT_DEV_CONFIG="${CMAKE_BINARY_DIR}/vmrt-dev.toml"
  VMRT_TEST_PAUSE="$<TARGET_FILE:vmrt_test_pause>")
# Everything the shim runs from the build tree (vmrt-dev.toml names them).
add_dependencies(vmrt_containerd_harness
  containerd-shim-vmrt-v1 vmrt_test_pause vmrt-vmm rootfs-image)

vmrt_rig_test(containerd_test
  SOURCES ctr_test.cpp ctr_failures_test.cpp
  LIBS vmrt_containerd_harness GTest::gmock
  TIMEOUT 1500)
