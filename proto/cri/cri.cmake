# vmrt_cri_proto: C++ messages and gRPC client stubs for the subset of the
# Kubernetes CRI v1 API in api.proto (package runtime.v1), used by the CRI
# client in tools/cri to drive containerd's CRI plugin. Included from
# proto/CMakeLists.txt, which finds gRPC.
vmrt_proto_library(vmrt_cri_proto ROOT ${PROJECT_SOURCE_DIR} PROTOS proto/cri/api.proto GRPC)
target_link_libraries(vmrt_cri_proto PUBLIC PkgConfig::GRPCPP)
