#include "shim/stdio_fifos.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/error.h"

namespace vmrt::shim {
namespace {

std::string scheme_of(const std::string& uri) {
  auto colon = uri.find("://");
  return colon == std::string::npos ? "" : uri.substr(0, colon);
}

std::string path_of(const std::string& uri) {
  if (uri.starts_with("file://")) return uri.substr(7);
  if (uri.starts_with("fifo://")) return uri.substr(7);
  if (std::string scheme = scheme_of(uri); !scheme.empty())
    fail("stdio {}: the {} scheme is not supported (FIFOs, file:// and binary:// are)", uri,
         scheme);
  return uri;
}

// "file://PATH": stdout and stderr appended to one file, created with its
// directory as containerd's runc shim creates them.
UniqueFd open_log_file(const std::string& uri) {
  std::filesystem::path path = path_of(uri);
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) fail("stdio {}: cannot create {}: {}", uri, path.parent_path().string(), ec.message());
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644));
  if (!fd) throw_errno("open the log file " + path.string());
  return fd;
}

UniqueFd duplicate(const UniqueFd& fd) {
  return UniqueFd(check_sys(::fcntl(fd.get(), F_DUPFD_CLOEXEC, 3), "duplicate a stdio fd"));
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

HostStdio open_stdio(const StdioPaths& paths, const StdioOwner& owner) {
  HostStdio s;
  std::string scheme = scheme_of(paths.out);
  if (scheme == "binary") {
    s.logger.emplace(BinaryLogger::start(paths.out, owner.id, owner.ns));
    s.out = std::move(s.logger->out);
    if (!paths.terminal) s.err = std::move(s.logger->err);
    return s;
  }
  if (!paths.in.empty()) {
    // Non-blocking: containerd may open its writing end later. A FIFO opened
    // so polls readable only once a writer has come and gone or written, so
    // the relay neither spins nor sees a premature end of file.
    std::string path = path_of(paths.in);
    s.in.reset(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC));
    if (!s.in) throw_errno("open the stdin FIFO " + path);
  }
  if (scheme == "file") {
    s.out = open_log_file(paths.out);
    if (!paths.terminal) s.err = duplicate(s.out);
    return s;
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
