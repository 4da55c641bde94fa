# CRI end to end: kubelet's calls (through the project's CRI client) against
# containerd's CRI plugin with the runtime handlers vmrt and runc.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  vmrt_rig_test(cri_test
    SOURCES cri_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1200)
endif()

# Pod networking through CNI (bridge + host-local) for vmrt and runc pods.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  vmrt_rig_test(cri_network_test
    SOURCES cri_network_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1200)
endif()

# The pod's VM sized from the pod's limits, and resized in place.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  # A guest filling 900 MiB takes minutes under nested TCG: each part in
  # its own L1, with its own limit and rerun.
  vmrt_rig_test(cri_resources_test
    SOURCES cri_resources_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1100
    PARTS "sizing=*ThePodsLimitsSizeItsVm*"
          "update=*UpdateContainerResourcesGrowsAndShrinksTheVm*"
          "accounting=CriPodCgroupTest.*:*AContainerPastItsLimitIsOomKilled*")
endif()

# CRI PortForward for vmrt and runc pods: containerd's dial in the pod's
# network namespace, and its streaming server over WebSocket.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  vmrt_rig_test(cri_port_forward_test
    SOURCES cri_port_forward_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1200)
endif()

# `vmrt debug-console POD` for a shim pod: refused unless the pod's
# configuration and the CLI's allow it; a shell in the guest when they do.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness AND TARGET rootfs-image-debug)
  vmrt_rig_test(cri_debug_console_test
    SOURCES cri_debug_console_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 900)
  target_compile_definitions(cri_debug_console_test PRIVATE
    VMRT_CLI="$<TARGET_FILE:vmrt>"
    VMRT_DEV_CONFIG="${CMAKE_BINARY_DIR}/vmrt-dev.toml"
    VMRT_DEBUG_IMAGE="${CMAKE_BINARY_DIR}/rootfs-image/initramfs-debug.cpio.gz")
  add_dependencies(cri_debug_console_test vmrt rootfs-image-debug)
endif()

# Dual-stack and IPv6-only pods through CNI for vmrt and runc pods.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  vmrt_rig_test(cri_dual_stack_test
    SOURCES cri_dual_stack_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1200)
endif()

# Service-mesh networking in vmrt and runc pods: an init container's
# iptables rules (nft and legacy) redirecting the app's outbound TCP to the
# pod's proxy, AF_PACKET and TUN in a privileged container.
if(TARGET vmrt_cri_client AND TARGET vmrt_containerd_harness)
  vmrt_rig_test(cri_mesh_test
    SOURCES cri_mesh_test.cpp
    LIBS vmrt_containerd_harness vmrt_cri_client GTest::gmock
    TIMEOUT 1200)
endif()
