#include "shim/runtime_options.h"

#include <cstdlib>

#include "common/error.h"
#include "github.com/containerd/containerd/pkg/runtimeoptions/v1/api.pb.h"

namespace vmrt::shim {

std::string config_path_option(const google::protobuf::Any& options) {
  // containerd names types without the "type.googleapis.com/" prefix that
  // other encoders add: compare what follows the last slash.
  const std::string& url = options.type_url();
  std::string type = url.substr(url.rfind('/') + 1);
  if (type != runtimeoptions::v1::Options::default_instance().GetTypeName()) return "";
  runtimeoptions::v1::Options o;
  if (!o.ParseFromString(options.value()))
    fail("the task's runtime options ({}) do not parse", url);
  return o.config_path();
}

std::string runtime_config_path(const google::protobuf::Any& options) {
  std::string path = config_path_option(options);
  if (!path.empty()) return path;
  const char* env = std::getenv("VMRT_CONFIG");
  return env ? env : "";
}

}  // namespace vmrt::shim
