add_library(vmrt_sandbox STATIC
  agent_client.cpp
  file_tail.cpp
  host_kvm.cpp
  container_calls.cpp
  io_relay.cpp
  network/netns_thread.cpp
  network/guest_network.cpp
  network/pod_attachment.cpp
  network/port_relay.cpp
  network/rtnl_links.cpp
  network/tc_redirect.cpp
  process_watch.cpp
  share_mount.cpp
  sandbox.cpp
  cgroup_hierarchy.cpp
  cgroup_limits.cpp
  cgroup_path.cpp
  sandbox_size.cpp
  vmm_cgroup.cpp
  template_record.cpp
  vm_template.cpp
  vmm_command.cpp
  vmm_control.cpp
  vm_resize.cpp
)
target_link_libraries(vmrt_sandbox PUBLIC vmrt_sandbox_config vmrt_agent_proto vmrt_ttrpc vmrt_common)
