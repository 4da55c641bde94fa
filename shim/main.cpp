// containerd-shim-vmrt-v1: containerd's runtime v2 shim for io.containerd.vmrt.v1.

#include <spdlog/spdlog.h>

#include <cstdio>
#include <exception>

#include "shim/commands.h"

int main(int argc, char** argv) {
  using namespace vmrt::shim;
  ShimArgs args;
  try {
    args = parse_shim_args({argv + 1, argv + argc});
    if (args.version) {
      std::printf("containerd-shim-vmrt-v1 %s\n", VMRT_VERSION);
      return 0;
    }
    if (args.action == "start") return start_command(args);
    if (args.action == "delete") return delete_command(args);
    return serve_command(args);
  } catch (const std::exception& e) {
    // containerd shows what `start` and `delete` print on stderr.
    if (args.action.empty() && !args.id.empty())
      spdlog::error("{}", e.what());  // the daemon's log
    else
      std::fprintf(stderr, "containerd-shim-vmrt-v1: %s\n", e.what());
    return 1;
  }
}
