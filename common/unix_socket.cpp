#include "common/unix_socket.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

#include "common/error.h"

namespace vmrt {

namespace {

// A socket's address. A path too long for sun_path (a deep state root, such
// as Docker's, with a 64-character id) is reached through its directory
// instead: "/proc/self/fd/<dirfd>/<name>", with the directory held open for
// as long as the address lives, so no path length limits where vmrt keeps
// its sockets.
struct Address {
  sockaddr_un addr{};
  UniqueFd dir;
};

Address address(const std::filesystem::path& path) {
  Address a;
  a.addr.sun_family = AF_UNIX;
  const std::string& s = path.native();
  // sun_path must hold the terminating NUL; a longer name would be truncated
  // and bind to another path.
  if (s.empty()) fail("unix socket path is empty");
  std::string name = s;
  if (s.size() >= sizeof a.addr.sun_path) {
    std::filesystem::path parent = path.parent_path();
    if (parent.empty()) parent = ".";
    a.dir = UniqueFd(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!a.dir) throw_errno("open the directory of unix socket " + s);
    name = fmt::format("/proc/self/fd/{}/{}", a.dir.get(), path.filename().string());
    if (name.size() >= sizeof a.addr.sun_path)
      fail("unix socket name \"{}\" in {} is too long", path.filename().string(), parent.string());
  }
  std::memcpy(a.addr.sun_path, name.c_str(), name.size() + 1);
  return a;
}

UniqueFd new_socket(int flags = 0) {
  return UniqueFd(
      check_sys(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0), "socket(AF_UNIX)"));
}

// Connects `fd` to `addr`; returns 0 or the errno. A retry after EINTR can
// find the connection already made (EISCONN), which is success.
int try_connect(int fd, const sockaddr_un& addr) {
  while (::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) < 0) {
    if (errno == EISCONN) return 0;
    if (errno != EINTR) return errno;
  }
  return 0;
}

// Removes a socket file nobody listens on any more. A live socket is left
// alone: unlinking it would silently steal the name from a running server.
void remove_stale(const std::filesystem::path& path, const sockaddr_un& addr) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return;
    throw_errno("stat " + path.string());
  }
  if (!S_ISSOCK(st.st_mode))
    fail("cannot listen on {}: it exists and is not a socket", path.string());
  UniqueFd probe = new_socket();
  int err = try_connect(probe.get(), addr);
  if (err == 0) fail("cannot listen on {}: another process is listening there", path.string());
  if (err != ECONNREFUSED) throw_errno("probe " + path.string(), err);
  if (::unlink(path.c_str()) < 0 && errno != ENOENT)
    throw_errno("remove stale socket " + path.string());
}

}  // namespace

UniqueFd listen_unix(const std::filesystem::path& path, int backlog) {
  Address a = address(path);
  remove_stale(path, a.addr);
  UniqueFd fd = new_socket();
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&a.addr), sizeof a.addr) < 0)
    throw_errno("bind " + path.string());
  check_sys(::listen(fd.get(), backlog), "listen on " + path.string());
  return fd;
}

UniqueFd connect_unix(const std::filesystem::path& path) {
  Address a = address(path);
  UniqueFd fd = new_socket();
  if (int err = try_connect(fd.get(), a.addr)) throw_errno("connect to " + path.string(), err);
  return fd;
}

UniqueFd connect_unix_nonblocking(const std::filesystem::path& path) {
  Address a = address(path);
  UniqueFd fd = new_socket(SOCK_NONBLOCK);
  if (int err = try_connect(fd.get(), a.addr)) throw_errno("connect to " + path.string(), err);
  return fd;
}

UniqueFd accept_unix(int listen_fd) {
  for (;;) {
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) return UniqueFd(fd);
    if (errno != EINTR && errno != ECONNABORTED && errno != EPROTO) throw_errno("accept");
  }
}

ssize_t send_with_fd(int sock, const void* data, size_t len, int fd) noexcept {
  return send_with_fds(sock, data, len, {&fd, 1});
}

size_t receive_with_fd(int sock, void* data, size_t len, UniqueFd* fd) {
  std::vector<UniqueFd> fds;
  size_t n = receive_with_fds(sock, data, len, fds);
  if (fd && !fds.empty()) *fd = std::move(fds.front());
  return n;
}

ssize_t send_with_fds(int sock, const void* data, size_t len, std::span<const int> fds) noexcept {
  if (fds.size() > kMaxPassedFds) {
    errno = EINVAL;
    return -1;
  }
  iovec iov{const_cast<void*>(data), len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  if (!fds.empty()) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n;
}

size_t receive_with_fds(int sock, void* data, size_t len, std::vector<UniqueFd>& fds) {
  fds.clear();
  iovec iov{data, len};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxPassedFds)];
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  do n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("recvmsg");
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int received;
      std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof received);
      fds.emplace_back(received);  // closed with the vector unless the caller keeps it
    }
  }
  if (msg.msg_flags & MSG_CTRUNC)
    fail("recvmsg: more than {} descriptors came with one message", kMaxPassedFds);
  return static_cast<size_t>(n);
}

}  // namespace vmrt
