#pragma once
// A connected pair of Unix stream sockets: one end for the code under test,
// the other for a test playing the peer.

#include <sys/socket.h>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::ttrpc::test {

struct SocketPair {
  UniqueFd a, b;
};

inline SocketPair socket_pair() {
  int fds[2];
  check_sys(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace vmrt::ttrpc::test
