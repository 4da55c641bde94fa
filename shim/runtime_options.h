#pragma once
// The runtime configuration file a pod's VM is made with. A CRI runtime
// handler's `options` table in containerd's configuration reaches the shim
// as a runtimeoptions.v1.Options (its ConfigPath) in the pod's first
// CreateTaskRequest; that is how two handlers of the same shim run with
// different configurations (e.g. one booting every VM). Without one, the
// shim's VMRT_CONFIG, else the default file.

#include <google/protobuf/any.pb.h>

#include <string>

namespace vmrt::shim {

// The ConfigPath of `options` when they are a runtimeoptions.v1.Options, ""
// for no options or options of another type. Throws vmrt::Error when they
// claim that type but do not parse.
std::string config_path_option(const google::protobuf::Any& options);

// config_path_option(options), else VMRT_CONFIG, else "" (the default file).
std::string runtime_config_path(const google::protobuf::Any& options);

}  // namespace vmrt::shim
