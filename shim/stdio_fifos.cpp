#include "shim/stdio_fifos.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"

namespace vmrt::shim {
namespace {

std::string path_of(const std::string& uri) {
  if (uri.starts_with("file://")) return uri.substr(7);
  if (uri.starts_with("fifo://")) return uri.substr(7);
  if (auto colon = uri.find("://"); colon != std::string::npos)
    fail("stdio {}: the {} scheme is not supported (FIFOs and file:// are)", uri,
         uri.substr(0, colon));
  return uri;
}

void set_blocking(int fd) {
  int flags = check_sys(::fcntl(fd, F_GETFL), "fcntl F_GETFL");
  check_sys(::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK), "fcntl F_SETFL");
}

UniqueFd open_output(const std::string& uri) {
  if (uri.empty()) return {};
  std::string path = path_of(uri);
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) {
    // containerd has its reading end open; failing that (ENXIO) the FIFO is
    // held open for writing by ourselves too, so that output waits in it
    // rather than killing the process with SIGPIPE.
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
    if (!fd && errno == ENXIO) fd.reset(::open(path.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) throw_errno("open the output FIFO " + path);
    set_blocking(fd.get());
    return fd;
  }
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd) throw_errno("open the output file " + path);
  return fd;
}

}  // namespace

HostStdio open_stdio(const StdioPaths& paths) {
  HostStdio s;
  if (!paths.in.empty()) {
    // Non-blocking: containerd may open its writing end later. A FIFO opened
    // so polls readable only once a writer has come and gone or written, so
    // the relay neither spins nor sees a premature end of file.
    std::string path = path_of(paths.in);
    s.in.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!s.in) throw_errno("open the stdin FIFO " + path);
  }
  s.out = open_output(paths.out);
  if (!paths.terminal) s.err = open_output(paths.err);
  return s;
}

void close_stdin_fifo(const std::string& uri) {
  if (uri.empty()) return;
  // A writer that comes and goes: the reader's poll then reports hang-up.
  UniqueFd fd(::open(path_of(uri).c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
}

}  // namespace vmrt::shim
