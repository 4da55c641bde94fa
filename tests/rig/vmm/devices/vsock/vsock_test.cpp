// virtio-vsock with a real guest kernel under vmrt-vmm (inside tools/testvm):
// the guest's /init (guest_init.c, VMRT_TEST_ACTION=vsock) runs an echo
// server on port 5000 and connects once to host port 6000. From the host,
// through the hybrid socket: 64 MiB echoed and checksummed, 100 concurrent
// echo streams, the guest-to-host call answered, and a port nobody listens on
// refused promptly with a clear error. The VMM leaves nothing behind.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/hybrid_vsock.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/unix_socket.h"

namespace vmrt {
namespace {

using namespace std::chrono_literals;

constexpr uint32_t kEchoPort = 5000;
constexpr uint32_t kHostPort = 6000;

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// FNV-1a over a stream of chunks.
struct Checksum {
  uint64_t h = 1469598103934665603ull;
  void add(const uint8_t* p, size_t n) {
    for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  }
};

// Writes `data` to `fd` while reading back the same number of bytes, then
// half-closes and expects the echo server's EOF. Returns the checksum read.
// A write error (the stream reset under the writer) is a failure of the
// test, reported with the bytes that made it, not an exception escaping the
// writer thread (which would abort the binary without any results).
uint64_t echo_through(int fd, const std::vector<uint8_t>& data) {
  std::string write_error;
  std::thread writer([&] {
    try {
      write_all(fd, data.data(), data.size());
      ::shutdown(fd, SHUT_WR);
    } catch (const std::exception& e) {
      write_error = e.what();
      ::shutdown(fd, SHUT_RDWR);
    }
  });
  Checksum got;
  std::vector<uint8_t> buf(1 << 16);
  size_t total = 0;
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got.add(buf.data(), static_cast<size_t>(n));
    total += static_cast<size_t>(n);
  }
  writer.join();
  if (!write_error.empty())
    throw Error("echo writer: " + write_error + " after " + std::to_string(total) +
                " bytes came back");
  EXPECT_EQ(total, data.size());
  return got.h;
}

class VsockRig : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("vsock-rig");
    vm_socket_ = dir_->path() / "vm.sock";
    console_ = dir_->path() / "console";
    // The guest calls host port 6000 right after boot: listen before it runs.
    host_listener_ =
        new UniqueFd(listen_unix(vm_socket_.string() + "_" + std::to_string(kHostPort)));
    SpawnOptions opts;
    opts.err = Stdio::to_fd(
        open((dir_->path() / "vmm.log").c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
    vmm_ = new Subprocess(Subprocess::spawn(
        {VMRT_VMM, "--kernel", VMRT_GUEST_VMLINUX, "--initrd", VMRT_TEST_INITRAMFS, "--mem", "256",
         "--cpus", "2", "--console", console_.string(), "--vsock-socket", vm_socket_.string(),
         "--cmdline", "console=ttyS0 reboot=k panic=-1 quiet VMRT_TEST_ACTION=vsock"},
        opts));
    for (int i = 0; i < 1200 && slurp(console_).find("VMRT_VSOCK_READY") == std::string::npos;
         ++i) {
      if (vmm_->wait_for(0ms)) break;
      std::this_thread::sleep_for(100ms);
    }
  }
  static void TearDownTestSuite() {
    delete vmm_;
    delete host_listener_;
    delete dir_;
  }
  void SetUp() override {
    ASSERT_NE(slurp(console_).find("VMRT_VSOCK_READY"), std::string::npos)
        << "guest console:\n"
        << slurp(console_) << "\nvmm log:\n"
        << slurp(dir_->path() / "vmm.log");
  }

  static inline TempDir* dir_;
  static inline std::filesystem::path vm_socket_, console_;
  static inline UniqueFd* host_listener_;
  static inline Subprocess* vmm_;
};

TEST_F(VsockRig, GuestConnectsToAHostUnixSocket) {
  UniqueFd conn = accept_unix(host_listener_->get());
  auto line = read_line(conn.get(), 100);
  ASSERT_TRUE(line);
  EXPECT_EQ(*line, "hello from the guest");
  write_all(conn.get(), "hello from the host\n");
  std::string console;
  for (int i = 0; i < 100; ++i) {
    console = slurp(console_);
    if (console.find("VMRT_VSOCK_G2H") != std::string::npos) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_NE(console.find("VMRT_VSOCK_G2H ok hello from the host"), std::string::npos) << console;
}

TEST_F(VsockRig, Echoes64MiBIntact) {
  std::vector<uint8_t> data(64 << 20);
  std::mt19937_64 rng(42);
  for (size_t i = 0; i < data.size(); i += 8) {
    uint64_t v = rng();
    std::memcpy(&data[i], &v, 8);
  }
  Checksum sent;
  sent.add(data.data(), data.size());
  UniqueFd fd = hybrid_vsock::connect_vsock(vm_socket_, kEchoPort);
  try {
    EXPECT_EQ(echo_through(fd.get(), data), sent.h);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << "\nguest console:\n"
                  << slurp(console_) << "\nvmm log:\n"
                  << slurp(dir_->path() / "vmm.log");
  }
}

TEST_F(VsockRig, HundredConcurrentStreams) {
  constexpr int kStreams = 100;
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  std::vector<std::string> errors(kStreams);
  for (int i = 0; i < kStreams; ++i)
    threads.emplace_back([&, i] {
      try {
        std::vector<uint8_t> data(256 * 1024);
        for (size_t j = 0; j < data.size(); ++j) data[j] = static_cast<uint8_t>(i * 31 + j * 7);
        Checksum sent;
        sent.add(data.data(), data.size());
        UniqueFd fd = hybrid_vsock::connect_vsock(vm_socket_, kEchoPort, 60s);
        if (echo_through(fd.get(), data) == sent.h) ++good;
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kStreams);
  for (int i = 0; i < kStreams; ++i) EXPECT_EQ(errors[i], "") << "stream " << i;
}

TEST_F(VsockRig, PortWithoutListenerIsRefused) {
  try {
    hybrid_vsock::connect_vsock(vm_socket_, 5999, 20s);
    FAIL() << "connected to a port nobody listens on";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ECONNREFUSED) << e.what();
    EXPECT_NE(std::string(e.what()).find("refused"), std::string::npos) << e.what();
  }
}

// Last (gtest runs tests in order within a file): stop the VM.
TEST_F(VsockRig, SigtermStopsTheVmAndRemovesItsSocket) {
  vmm_->kill(SIGTERM);
  auto st = vmm_->wait_for(30s);
  ASSERT_TRUE(st) << "vmrt-vmm ignored SIGTERM";
  EXPECT_TRUE(st->success()) << st->to_string();
  EXPECT_FALSE(std::filesystem::exists(vm_socket_));
}

}  // namespace
}  // namespace vmrt
