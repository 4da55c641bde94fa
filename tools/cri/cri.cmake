# vmrt_cri_client: the CRI client library (calls with deadlines and errors
# that name them, request building from flags and crictl-style JSON, the pod
# start benchmark); vmrt-cri: its command line, for test and bench scripts.
add_library(vmrt_cri_client STATIC
  cri_client.cpp
  cri_config.cpp
  pod_start_bench.cpp
  port_forward_client.cpp
)
target_link_libraries(vmrt_cri_client PUBLIC vmrt_cri_proto vmrt_common nlohmann_json::nlohmann_json
  PRIVATE vmrt_ttrpc)

add_executable(vmrt-cri main.cpp)
target_link_libraries(vmrt-cri PRIVATE vmrt_cri_client)
