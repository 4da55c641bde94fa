#pragma once
// A task's stdio as containerd hands it over: paths of FIFOs it created and
// reads or writes on its side (or "file://PATH" for a log file, or empty
// for none), opened here into descriptors for the guest stream relay.

#include <string>

#include "common/fd.h"
#include "sandbox/io_relay.h"

namespace vmrt::shim {

struct StdioPaths {
  std::string in, out, err;
  bool terminal = false;
};

struct HostStdio {
  UniqueFd in, out, err;
  sandbox::RelayFds relay_fds() const { return {in.get(), out.get(), err.get()}; }
};

// Throws vmrt::Error naming the path that cannot be opened or the URI
// scheme that is not supported.
HostStdio open_stdio(const StdioPaths& paths);

// Makes the stdin relay see end of file once what containerd wrote is read
// (containerd's CloseIO), even if containerd never opened its end.
void close_stdin_fifo(const std::string& path);

}  // namespace vmrt::shim
