add_library(vmrt_shim STATIC
  binary_logger.cpp
  delete_command.cpp
  events.cpp
  fifo_log_sink.cpp
  metrics.cpp
  pod_location.cpp
  rootfs_mounts.cpp
  runtime_options.cpp
  serve_command.cpp
  shim_args.cpp
  start_command.cpp
  stdio_fifos.cpp
  pod_tasks.cpp
  pod_tasks_create.cpp
  sandbox_pod_vm.cpp
  task_service.cpp
  thread_runner.cpp
  vmm_pid_file.cpp)
target_link_libraries(vmrt_shim PUBLIC vmrt_sandbox vmrt_ttrpc vmrt_containerd_proto vmrt_common)
target_compile_definitions(vmrt_shim PRIVATE VMRT_VERSION="${PROJECT_VERSION}")

add_executable(containerd-shim-vmrt-v1 main.cpp)
target_link_libraries(containerd-shim-vmrt-v1 PRIVATE vmrt_shim)
target_compile_definitions(containerd-shim-vmrt-v1 PRIVATE VMRT_VERSION="${PROJECT_VERSION}")
install(TARGETS containerd-shim-vmrt-v1 RUNTIME DESTINATION bin)
