#pragma once
// The shim's three ways to run (see shim_args.h).

#include "shim/shim_args.h"

namespace vmrt::shim {

// `start`: finds the pod's running shim or starts one (a daemon serving on a
// socket inherited as fd 3), records its address in the bundle's `address`
// file (containerd reads it after a restart) and prints it. Returns the exit
// code.
int start_command(const ShimArgs& args);

// `delete`: containerd cleans up after a shim that died. Stops what is left
// of the task's pod when the task was the pod, and prints the task's
// DeleteResponse (protobuf) on stdout.
int delete_command(const ShimArgs& args);

// No action: the daemon. Serves containerd's Task API until containerd
// shuts it down once its last task is deleted.
int serve_command(const ShimArgs& args);

// The fd a `start`ed daemon finds its listening socket on.
inline constexpr int kListenerFd = 3;

}  // namespace vmrt::shim
