#include "tools/vmrt/terminal.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include <cstring>

#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::cli {

RawTerminal::RawTerminal(int fd) {
  termios t{};
  if (!::isatty(fd) || ::tcgetattr(fd, &t) < 0) return;
  saved_ = t;
  ::cfmakeraw(&t);
  if (::tcsetattr(fd, TCSANOW, &t) == 0) fd_ = fd;
}

RawTerminal::~RawTerminal() {
  if (fd_ >= 0) ::tcsetattr(fd_, TCSANOW, &saved_);
}

Pty Pty::open() {
  Pty p;
  p.master.reset(check_sys(::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC), "posix_openpt"));
  check_sys(::grantpt(p.master.get()), "grantpt");
  check_sys(::unlockpt(p.master.get()), "unlockpt");
  char name[64];
  if (int err = ::ptsname_r(p.master.get(), name, sizeof name)) throw_errno("ptsname", err);
  p.slave_name = name;
  p.slave.reset(check_sys(::open(name, O_RDWR | O_NOCTTY | O_CLOEXEC), "open " + p.slave_name));
  termios t{};
  if (::tcgetattr(p.slave.get(), &t) == 0) {
    ::cfmakeraw(&t);
    ::tcsetattr(p.slave.get(), TCSANOW, &t);
  }
  return p;
}

Pty Pty::for_console_socket(const std::string& socket_path) {
  Pty p = open();
  ::ioctl(p.slave.get(), TIOCSCTTY, 0);
  send_console(socket_path, p.master.get(), p.slave_name);
  p.master.reset();
  return p;
}

void send_console(const std::string& socket_path, int master, const std::string& name) {
  UniqueFd s = connect_unix(socket_path);
  if (send_with_fd(s.get(), name.data(), name.size(), master) < 0)
    throw_errno("send the terminal to console socket " + socket_path);
}

void detach_stdio() {
  UniqueFd null(check_sys(::open("/dev/null", O_RDWR | O_CLOEXEC), "open /dev/null"));
  for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null.get(), fd);
}

std::optional<winsize> window_size(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0) return std::nullopt;
  return ws;
}

}  // namespace vmrt::cli
