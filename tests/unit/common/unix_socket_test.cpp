#include "common/unix_socket.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"

namespace vmrt {
namespace {

using test::error_text;

struct Pair {
  UniqueFd a, b;
};

Pair socket_pair() {
  int fds[2];
  check_sys(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), "socketpair");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

bool cloexec(int fd) { return ::fcntl(fd, F_GETFD) & FD_CLOEXEC; }

TEST(UnixSocket, ListenConnectAcceptRoundTrip) {
  TempDir dir("vmrt-sock-test");
  auto path = dir.path() / "s.sock";
  UniqueFd listener = listen_unix(path);
  UniqueFd client = connect_unix(path);
  UniqueFd server = accept_unix(listener.get());
  for (int fd : {listener.get(), client.get(), server.get()}) EXPECT_TRUE(cloexec(fd));

  write_all(client.get(), "CONNECT 52\nrest");
  EXPECT_EQ(read_line(server.get(), 64), "CONNECT 52");
  char rest[4];
  ASSERT_TRUE(read_exact(server.get(), rest, sizeof rest)) << "read_line consumed past the newline";
  EXPECT_EQ(std::string(rest, 4), "rest");

  // A payload larger than the socket buffer needs several writes and reads.
  std::string big(1 << 20, 'x');
  std::thread writer([&] { write_all(server.get(), big); });
  std::string got(big.size(), '\0');
  ASSERT_TRUE(read_exact(client.get(), got.data(), got.size()));
  writer.join();
  EXPECT_EQ(got, big);
}

TEST(UnixSocket, ListenReplacesAStaleSocketButNotALiveOne) {
  TempDir dir("vmrt-sock-test");
  auto path = dir.path() / "s.sock";
  listen_unix(path);  // closed at once: the file stays behind, nobody listening
  ASSERT_TRUE(std::filesystem::exists(path));
  UniqueFd live = listen_unix(path);
  EXPECT_NE(error_text([&] { listen_unix(path); }).find("another process is listening"),
            std::string::npos);
  UniqueFd still = connect_unix(path);  // the live one kept its name
  EXPECT_TRUE(still.valid());
}

TEST(UnixSocket, ErrorsNameThePath) {
  TempDir dir("vmrt-sock-test");
  auto file = dir.path() / "plain";
  std::ofstream(file) << "not a socket";
  EXPECT_NE(error_text([&] { listen_unix(file); }).find("is not a socket"), std::string::npos);
  EXPECT_TRUE(std::filesystem::exists(file));
  std::string err = error_text([&] { connect_unix(dir.path() / "none.sock"); });
  EXPECT_NE(err.find("connect to " + (dir.path() / "none.sock").string()), std::string::npos)
      << err;
  EXPECT_NE(error_text([] { connect_unix(""); }).find("is empty"), std::string::npos);
  // A name that alone cannot fit, however it is reached.
  EXPECT_NE(error_text([&] { listen_unix(dir.path() / std::string(120, 'a')); }).find("too long"),
            std::string::npos);
}

// Docker's state root with a 64-hex id puts a VM's socket far past the 108
// bytes of sun_path: such a socket is bound, replaced when stale, and reached
// through its directory, under its real path.
TEST(UnixSocket, APathLongerThanSunPathWorks) {
  TempDir dir("vmrt-sock-test");
  auto deep = dir.path() / "var/run/docker/runtime-runc/moby" / std::string(64, 'f') / "vm";
  std::filesystem::create_directories(deep);
  auto path = deep / "vm.sock_1024";
  ASSERT_GT(path.native().size(), sizeof(sockaddr_un{}.sun_path));
  listen_unix(path);  // stale once closed
  UniqueFd listener = listen_unix(path);
  EXPECT_TRUE(std::filesystem::is_socket(path));
  UniqueFd client = connect_unix(path);
  UniqueFd server = accept_unix(listener.get());
  write_all(client.get(), "ping\n");
  EXPECT_EQ(read_line(server.get(), 16), "ping");
  UniqueFd nonblocking = connect_unix_nonblocking(path);
  EXPECT_TRUE(nonblocking.valid());
  EXPECT_NE(error_text([&] { listen_unix(path); }).find("another process is listening"),
            std::string::npos);
}

TEST(FdIo, ReadExactTellsACleanEndFromATruncatedMessage) {
  Pair p = socket_pair();
  char buf[8];
  write_all(p.a.get(), "abc");
  p.a.reset();
  EXPECT_NE(error_text([&] { read_exact(p.b.get(), buf, 8); }).find("after 3 of 8 bytes"),
            std::string::npos);
  EXPECT_FALSE(read_exact(p.b.get(), buf, 8));
}

TEST(FdIo, ReadLineLimitsAndEnds) {
  Pair p = socket_pair();
  write_all(p.a.get(), "0123456789\n");
  EXPECT_NE(error_text([&] { read_line(p.b.get(), 4); }).find("longer than 4 bytes"),
            std::string::npos);
  Pair q = socket_pair();
  write_all(q.a.get(), "\npartial");
  q.a.reset();
  EXPECT_EQ(read_line(q.b.get(), 16), "");
  EXPECT_NE(error_text([&] { read_line(q.b.get(), 16); }).find("middle of a line"),
            std::string::npos);
  EXPECT_EQ(read_line(q.b.get(), 16), std::nullopt);
}

TEST(FdIo, WriteToAClosedPeerIsAnErrorNotASignal) {
  Pair p = socket_pair();
  p.b.reset();
  std::string err = error_text([&] { write_all(p.a.get(), "x"); });
  EXPECT_NE(err.find("Broken pipe"), std::string::npos) << err;
  int fds[2];
  ASSERT_EQ(::pipe2(fds, O_CLOEXEC), 0);
  UniqueFd r(fds[0]), w(fds[1]);
  write_all(w.get(), "via write(2)");
  char buf[12];
  ASSERT_TRUE(read_exact(r.get(), buf, sizeof buf));
  EXPECT_EQ(std::string(buf, sizeof buf), "via write(2)");
}

}  // namespace
}  // namespace vmrt
