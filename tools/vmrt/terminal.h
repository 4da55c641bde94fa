#pragma once
// Terminals on the host side of a container with process.terminal: the
// caller's own terminal put in raw mode while a foreground command relays
// it, and the pseudo-terminal whose master goes to --console-socket (runc's
// protocol: one SCM_RIGHTS message carrying the master, with the slave's
// name as the message data).

#include <sys/ioctl.h>
#include <termios.h>

#include <optional>
#include <string>

#include "common/fd.h"

namespace vmrt::cli {

// Raw mode on `fd` when it is a terminal; the old mode comes back when the
// object goes away. A no-op for anything else.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_ = -1;
  termios saved_{};
};

struct Pty {
  UniqueFd master, slave;
  std::string slave_name;  // /dev/pts/N
  static Pty open();       // the slave in raw mode: it carries bytes, not lines
  // For --console-socket: a pty whose master has gone to the socket's
  // listener (see send_console) and whose slave is the caller's controlling
  // terminal, so that a resize by the master's holder arrives as SIGWINCH.
  static Pty for_console_socket(const std::string& socket_path);
};

// Sends `master` over the Unix socket at `socket_path`, as runc does.
void send_console(const std::string& socket_path, int master, const std::string& name);

// Points stdin, stdout and stderr at /dev/null: a process whose container
// talks through a --console-socket terminal lets go of the creating
// command's stdio, as runc does, so nobody waits on it for nothing.
void detach_stdio();

// The window size of terminal `fd`, or nullopt when it is not a terminal.
std::optional<winsize> window_size(int fd);

}  // namespace vmrt::cli
