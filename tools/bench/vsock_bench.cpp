// vsock_bench: stream throughput and connect latency through the VMM's
// hybrid vsock to a guest echo server, through the kernel's AF_VSOCK (a
// peer VMM's vhost-vsock) to the same server, or, as the ceiling, through a
// plain Unix socket to an echo server in this process.
//
//   vsock_bench vsock VM_SOCKET PORT [MIB] [CONNECTS]
//   vsock_bench vhost CID PORT [MIB] [CONNECTS]
//   vsock_bench unix [MIB] [CONNECTS]
//
// Prints "connect_us <median>" and "throughput_mib_s <one-way MiB/s>": MIB
// mebibytes are written while the same amount is read back.
#include <linux/vm_sockets.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/hybrid_vsock.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"

using namespace vmrt;
using Clock = std::chrono::steady_clock;

namespace {

void echo_server(int listener) {
  for (;;) {
    UniqueFd c;
    try {
      c = accept_unix(listener);
    } catch (const Error&) {
      return;
    }
    std::thread([fd = c.release()] {
      UniqueFd conn(fd);
      std::vector<char> buf(1 << 16);
      ssize_t n;
      while ((n = ::read(conn.get(), buf.data(), buf.size())) > 0)
        write_all(conn.get(), buf.data(), n);
    }).detach();
  }
}

UniqueFd connect_af_vsock(uint32_t cid, uint32_t port) {
  UniqueFd fd(check_sys(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket AF_VSOCK"));
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = cid;
  addr.svm_port = port;
  check_sys(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr),
            "connect AF_VSOCK");
  return fd;
}

double throughput(const std::function<UniqueFd()>& connect, size_t mib) {
  UniqueFd fd = connect();
  std::vector<char> chunk(1 << 16, 'x');
  size_t total = mib << 20;
  auto t0 = Clock::now();
  std::thread writer([&] {
    for (size_t done = 0; done < total; done += chunk.size())
      write_all(fd.get(), chunk.data(), chunk.size());
    ::shutdown(fd.get(), SHUT_WR);
  });
  std::vector<char> buf(1 << 16);
  size_t got = 0;
  ssize_t n;
  while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0) got += static_cast<size_t>(n);
  writer.join();
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  if (got != total) std::fprintf(stderr, "echo returned %zu of %zu bytes\n", got, total);
  return static_cast<double>(total) / (1 << 20) / s;
}

double connect_median_us(const std::function<UniqueFd()>& connect, int count) {
  std::vector<double> us;
  for (int i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    UniqueFd fd = connect();
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - t0).count());
  }
  std::sort(us.begin(), us.end());
  return us[us.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string mode = argc > 1 ? argv[1] : "";
    std::function<UniqueFd()> connect;
    TempDir dir("vsock-bench");
    UniqueFd listener;
    int arg = 2;
    if (mode == "vsock" && argc >= 4) {
      std::string sock = argv[2];
      uint32_t port = static_cast<uint32_t>(std::stoul(argv[3]));
      connect = [=] { return hybrid_vsock::connect_vsock(sock, port); };
      arg = 4;
    } else if (mode == "vhost" && argc >= 4) {
      auto cid = static_cast<uint32_t>(std::stoul(argv[2]));
      auto port = static_cast<uint32_t>(std::stoul(argv[3]));
      connect = [=] { return connect_af_vsock(cid, port); };
      arg = 4;
    } else if (mode == "unix") {
      auto path = dir.path() / "echo.sock";
      listener = listen_unix(path);
      std::thread(echo_server, listener.get()).detach();
      connect = [=] { return connect_unix(path); };
    } else {
      std::fprintf(
          stderr,
          "usage: vsock_bench vsock VM_SOCKET PORT [MIB] [CONNECTS] | vhost CID PORT [MIB] "
          "[CONNECTS] | unix [MIB] [CONNECTS]\n");
      return 2;
    }
    size_t mib = argc > arg ? std::stoul(argv[arg]) : 256;
    int connects = argc > arg + 1 ? std::stoi(argv[arg + 1]) : 200;
    std::printf("connect_us %.1f\n", connect_median_us(connect, connects));
    std::printf("throughput_mib_s %.1f\n", throughput(connect, mib));
    std::fflush(stdout);
    std::_Exit(0);  // echo threads are still parked in accept/read
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vsock_bench: %s\n", e.what());
    return 1;
  }
}
