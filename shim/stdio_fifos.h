#pragma once
// A task's stdio as containerd hands it over, opened here into descriptors
// for the guest stream relay. As containerd's runc shim, the stdout URI
// decides for all three: a FIFO path (or "fifo://PATH") for each stream that
// containerd reads or writes on its side, empty for none; "file://PATH", one
// log file for stdout and stderr; "binary://PATH?ARGS", a logging program
// that gets both (binary_logger.h) and no stdin.

#include <optional>
#include <string>

#include "common/fd.h"
#include "sandbox/io_relay.h"
#include "shim/binary_logger.h"

namespace vmrt::shim {

struct StdioPaths {
  std::string in, out, err;
  bool terminal = false;
};

struct HostStdio {
  // Before the streams: they close first, so the logger sees their end.
  std::optional<BinaryLogger> logger;
  UniqueFd in, out, err;
  sandbox::RelayFds relay_fds() const { return {in.get(), out.get(), err.get()}; }
};

// Whose stdio it is, for a logging program's environment: the container's
// id (an exec's id for an exec) and containerd's namespace.
struct StdioOwner {
  std::string id, ns;
};

// Throws vmrt::Error naming the path that cannot be opened, the logging
// program that cannot start, or the URI scheme that is not supported.
HostStdio open_stdio(const StdioPaths& paths, const StdioOwner& owner);

// Makes the stdin relay see end of file once what containerd wrote is read
// (containerd's CloseIO), even if containerd never opened its end.
void close_stdin_fifo(const std::string& path);

}  // namespace vmrt::shim
