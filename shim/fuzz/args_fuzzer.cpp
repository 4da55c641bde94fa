// libFuzzer target: what containerd hands the shim before any VM exists.
// An input whose first byte is even is a command line (arguments separated
// by NUL bytes) for parse_shim_args, whose serve_args must parse back to the
// same flags; an odd one is a Task API CreateTaskRequest whose rootfs mounts
// go through mount_args, the option parsing of RootfsMounts (nothing is
// mounted). Each returns or throws vmrt::Error; anything else is a finding.
#include <google/protobuf/stubs/logging.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "github.com/containerd/containerd/runtime/v2/task/shim.pb.h"
#include "shim/rootfs_mounts.h"
#include "shim/shim_args.h"

using namespace vmrt;
using namespace vmrt::shim;

namespace {

void command_line(std::string_view text) {
  std::vector<std::string> args;
  for (size_t start = 0; start <= text.size();) {
    size_t end = std::min(text.find('\0', start), text.size());
    args.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  ShimArgs a;
  try {
    a = parse_shim_args(args);
  } catch (const Error&) {
    return;
  }
  ShimArgs b = parse_shim_args(serve_args(a));
  if (b.namespace_ != a.namespace_ || b.address != a.address ||
      b.publish_binary != a.publish_binary || b.id != a.id || b.bundle != a.bundle ||
      b.debug != a.debug || !b.action.empty())
    __builtin_trap();  // the served shim would not get what containerd gave
}

void create_request(std::string_view bytes) {
  containerd::task::v2::CreateTaskRequest r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return;
  for (const auto& m : r.rootfs())
    mount_args({m.type(), m.source(), {m.options().begin(), m.options().end()}});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // libprotobuf logs every string field that is not UTF-8: noise, and slow.
  google::protobuf::SetLogHandler(nullptr);
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] % 2 == 0)
    command_line(rest);
  else
    create_request(rest);
  return 0;
}
