add_library(vmrt_cli STATIC
  cmd_check.cpp
  cmd_create.cpp
  cmd_debug_console.cpp
  cmd_events.cpp
  cmd_exec.cpp
  cmd_lifecycle.cpp
  cmd_query.cpp
  container_access.cpp
  detached_worker.cpp
  exec_process.cpp
  forwarded_signals.cpp
  globals.cpp
  hooks.cpp
  keeper.cpp
  log_setup.cpp
  pid_file.cpp
  process_watch.cpp
  resources_flags.cpp
  runc_stats.cpp
  terminal.cpp
)
# vmrt_monitor: its discovery of the shim's pods, for debug-console.
target_link_libraries(vmrt_cli PUBLIC vmrt_sandbox vmrt_cli_state vmrt_cli_spec vmrt_cli_check
                                      vmrt_monitor)
target_compile_definitions(vmrt_cli PRIVATE VMRT_VERSION="${PROJECT_VERSION}")

# vmrt_cli_check: `vmrt check`'s probes, apart so that unit tests run them
# on a made-up host.
find_package(ZLIB REQUIRED)
find_package(tomlplusplus REQUIRED)
add_library(vmrt_cli_check STATIC host_check.cpp host_check_files.cpp)
target_link_libraries(vmrt_cli_check PUBLIC vmrt_sandbox PRIVATE ZLIB::ZLIB tomlplusplus::tomlplusplus)

add_executable(vmrt main.cpp)
target_link_libraries(vmrt PRIVATE vmrt_cli)
target_compile_definitions(vmrt PRIVATE VMRT_VERSION="${PROJECT_VERSION}")
# Tests and the README find the binaries the rig and the shim use.
add_dependencies(vmrt vmrt-vmm rootfs-image)
install(TARGETS vmrt)
