#pragma once
// The command line containerd gives a runtime v2 shim, in Go's flag syntax:
//   containerd-shim-vmrt-v1 -namespace NS -address SOCK -publish-binary BIN
//       -id ID [-bundle DIR] [-debug] [start|delete]
// No action means "serve": the daemon `start` leaves behind.

#include <string>
#include <vector>

namespace vmrt::shim {

struct ShimArgs {
  std::string namespace_;
  std::string address;         // containerd's gRPC socket
  std::string publish_binary;  // containerd itself (we publish over ttrpc instead)
  std::string id;
  std::string bundle;  // empty: the working directory
  bool debug = false;
  bool version = false;
  std::string action;  // "start", "delete" or "" (serve)
};

// Accepts -flag value, -flag=value and the same with two dashes, as Go's
// flag package does. Throws vmrt::Error naming an unknown flag, a missing
// value or an unknown action.
ShimArgs parse_shim_args(const std::vector<std::string>& args);

// The arguments that make a `start`ed shim serve: the same flags, no action.
std::vector<std::string> serve_args(const ShimArgs& args);

}  // namespace vmrt::shim
