// Docker or podman (VMRT_CLIENT) running containers through vmrt as through
// runc: every test runs once with each runtime and expects the same, except
// where a VM makes a difference the client can see (named where it is).

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <thread>

#include "common/fd.h"
#include "tests/rig/clients/client.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::clients_test {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::StartsWith;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// An HTTP/1.0 GET / of ip:port (a literal address): the body, or nullopt
// when there is no answer within a few seconds. The host's static busybox
// wget cannot be used: it crashes in the resolver.
std::optional<std::string> http_get(const std::string& ip, int port) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, ip.c_str(), &addr.sin_addr) != 1) return std::nullopt;
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  timeval tv{5, 0};
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    return std::nullopt;
  std::string request = "GET / HTTP/1.0\r\n\r\n";
  if (::write(fd.get(), request.data(), request.size()) != ssize_t(request.size()))
    return std::nullopt;
  std::string response;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) > 0;) response.append(buf, n);
  size_t body = response.find("\r\n\r\n");
  if (response.rfind("HTTP/1.", 0) != 0 || body == std::string::npos) return std::nullopt;
  return response.substr(body + 4);
}

class ClientTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() { client_ = Client::make(VMRT_CLIENT).release(); }
  static void TearDownTestSuite() {
    delete client_;
    client_ = nullptr;
  }

  void TearDown() override {
    for (const auto& name : names_) client_->run(runtime(), {"rm", "--force", name}, 120s);
    if (runtime() != "vmrt") return;
    // Nothing of a removed vmrt container stays: no VM, no VMM cgroup, no
    // state directory.
    EXPECT_THAT(test::settled(test::vmm_processes), IsEmpty());
    EXPECT_THAT(test::settled(test::vmm_cgroups), IsEmpty());
    EXPECT_THAT(test::settled([this] {
                  std::vector<std::string> left;
                  std::error_code ec;
                  for (const auto& e : fs::directory_iterator(client_->vmrt_state_root(), ec))
                    left.push_back(e.path().string());
                  return left;
                }),
                IsEmpty());
  }

  const std::string& runtime() const { return GetParam(); }
  // A container name of this test and runtime, removed after the test.
  std::string name(const std::string& base) {
    names_.push_back(base + "-" + runtime());
    return names_.back();
  }
  RunResult run(const std::vector<std::string>& args, std::chrono::seconds timeout = 300s) {
    return client_->run(runtime(), args, timeout);
  }
  // `args` must succeed: its stdout.
  std::string ok(const std::vector<std::string>& args) {
    RunResult r = run(args);
    EXPECT_TRUE(r.status.success())
        << client_->name() << " " << args[0] << ": " << r.status.to_string() << "\n"
        << r.out << r.err;
    return r.out;
  }
  std::string inspect(const std::string& container, const std::string& format) {
    return trimmed(ok({"inspect", "--format", format, container}));
  }
  // Polls `inspect` until the status is `status` (at most 120 s).
  std::string wait_status(const std::string& container, const std::string& status) {
    std::string now;
    for (int i = 0; i < 240; ++i) {
      now = inspect(container, "{{.State.Status}}");
      if (now == status) break;
      std::this_thread::sleep_for(500ms);
    }
    return now;
  }
  // The body of GET / from ip:port, retried for up to 60 s while the
  // server starts; "" when it never answers.
  std::string fetch(const std::string& ip, const std::string& port) {
    for (int i = 0; i < 60; ++i) {
      if (std::optional<std::string> body = http_get(ip, std::stoi(port))) return *body;
      std::this_thread::sleep_for(1s);
    }
    return "";
  }

  static Client* client_;
  std::vector<std::string> names_;
};

Client* ClientTest::client_ = nullptr;

TEST_P(ClientTest, RunGivesTheOutputAndTheExitStatus) {
  RunResult r = run({"run", "--rm", kImage, "sh", "-c", "echo out; echo err >&2; exit 3"});
  EXPECT_EQ(r.status.code, 3) << r.err;
  EXPECT_EQ(r.out, "out\n");
  EXPECT_THAT(r.err, HasSubstr("err\n"));
}

// The client's bridge network, configured through the pid in the state
// (Docker's prestart hook) or a namespace path (podman's netavark), and a
// published port; then the calls a running container gets.
TEST_P(ClientTest, ABridgeNetworkPortExecStatsUpdatePauseAndStop) {
  std::string web = name("web");
  std::string port = runtime() == "vmrt" ? "18082" : "18081";
  ok({"run", "--detach", "--name", web, "--publish", port + ":80", kImage, "httpd", "-f", "-p",
      "80", "-h", "/www"});
  EXPECT_EQ(fetch("127.0.0.1", port), kIndexHtml);
  std::string ip = inspect(web, "{{.NetworkSettings.IPAddress}}");
  ASSERT_FALSE(ip.empty());
  EXPECT_EQ(fetch(ip, "80"), kIndexHtml);

  // runc's exec lands at L1's initramfs root in the rig, not the
  // container's (see in_a_chroot()): the reference's checks of the
  // container's files through exec hold only outside it.
  bool exec_sees_the_root = runtime() == "vmrt" || !test::in_a_chroot();

  // exec, with and without a terminal, and its exit status.
  EXPECT_EQ(run({"exec", web, "sh", "-c", "exit 7"}).status.code, 7);
  if (exec_sees_the_root) {
    EXPECT_EQ(ok({"exec", web, "cat", "/www/index.html"}), kIndexHtml);
    EXPECT_EQ(ok({"exec", "--tty", web, "sh", "-c", "test -t 1 && echo tty"}), "tty\r\n");
    // The container sees its own network, with the address the client gave.
    EXPECT_THAT(ok({"exec", web, "ip", "-4", "addr", "show", "eth0"}), HasSubstr(ip + "/"));
  }

  // top: the client lists the host processes of the container: the
  // container's own for runc, the keeper standing for them for vmrt.
  std::string top = ok({"top", web});
  if (client_->name() == "docker")
    EXPECT_THAT(top, HasSubstr(runtime() == "vmrt" ? "vmrt" : "httpd")) << top;

  // stats read the cgroup of the container's pid: the VM's, for vmrt.
  std::string mem = trimmed(ok({"stats", "--no-stream", "--format", "{{.MemUsage}}", web}));
  EXPECT_THAT(mem, Not(StartsWith("0B"))) << mem;

  // update reaches the container's cgroup (in the guest, for vmrt).
  ok({"update", "--memory", "64m", "--memory-swap", "128m", web});
  if (exec_sees_the_root)
    EXPECT_EQ(trimmed(ok({"exec", web, "cat", "/sys/fs/cgroup/memory.max"})), "67108864");

  ok({"pause", web});
  EXPECT_EQ(inspect(web, "{{.State.Status}}"), "paused");
  ok({"unpause", web});
  EXPECT_EQ(inspect(web, "{{.State.Status}}"), "running");
  EXPECT_EQ(fetch(ip, "80"), kIndexHtml);

  // httpd is pid 1 and has no SIGTERM handler: stop's timeout ends in SIGKILL.
  ok({"stop", "--time", "2", web});
  EXPECT_EQ(wait_status(web, "exited"), "exited");
  EXPECT_EQ(inspect(web, "{{.State.ExitCode}}"), "137");
}

// A signal reaches the container's process; logs keep both streams.
TEST_P(ClientTest, KillSendsTheSignalAndLogsKeepBothStreams) {
  std::string c = name("signals");
  ok({"run", "--detach", "--name", c, kImage, "sh", "-c",
      "trap 'echo got-usr1; exit 5' USR1; echo ready; echo to-stderr >&2; "
      "while :; do sleep 0.2; done"});
  for (int i = 0; i < 120 && ok({"logs", c}).find("ready") == std::string::npos; ++i)
    std::this_thread::sleep_for(500ms);
  ok({"kill", "--signal", "USR1", c});
  EXPECT_EQ(wait_status(c, "exited"), "exited");
  EXPECT_EQ(inspect(c, "{{.State.ExitCode}}"), "5");
  RunResult logs = run({"logs", c});
  EXPECT_EQ(logs.out, "ready\ngot-usr1\n");
  EXPECT_EQ(logs.err, "to-stderr\n");
}

// The flags that shape a container: --init, --read-only, --tmpfs, -v (rw
// and ro), --user, --cap-drop, a seccomp profile.
TEST_P(ClientTest, InitReadOnlyTmpfsVolumesUserCapabilitiesAndSeccompApply) {
  fs::path rw = client_->dir() / ("rw-" + runtime()), ro = client_->dir() / ("ro-" + runtime());
  fs::create_directories(rw);
  fs::create_directories(ro);
  fs::permissions(rw, fs::perms::all);
  std::ofstream(ro / "file") << "read me\n";
  fs::path profile = client_->dir() / "no-mkdir.json";
  std::ofstream(profile) << R"({"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [)"
                         << R"({"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}]})";
  RunResult r =
      run({"run",
           "--rm",
           "--init",
           "--read-only",
           "--tmpfs",
           "/scratch",
           "--volume",
           rw.string() + ":/data",
           "--volume",
           ro.string() + ":/ro:ro",
           "--user",
           "1000:1000",
           "--cap-drop",
           "ALL",
           "--security-opt",
           "seccomp=" + profile.string(),
           kImage,
           "sh",
           "-c",
           "tr '\\0' ' ' </proc/1/cmdline; echo; "
           "touch /x 2>/dev/null && echo rootfs-rw || echo rootfs-ro; "
           "touch /scratch/y && echo tmpfs-rw; "
           "echo written >/data/f && echo volume-rw; "
           "cat /ro/file; touch /ro/z 2>/dev/null && echo ro-volume-rw || echo ro-volume-ro; "
           "echo uid $(id -u) gid $(id -g); "
           "grep CapEff /proc/self/status; "
           "mkdir /scratch/d 2>/dev/null && echo mkdir-allowed || echo mkdir-denied"});
  ASSERT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.out << r.err;
  std::istringstream lines(r.out);
  std::string init;
  std::getline(lines, init);
  EXPECT_THAT(init, HasSubstr(client_->init_program()));
  std::string rest((std::istreambuf_iterator<char>(lines)), std::istreambuf_iterator<char>());
  EXPECT_EQ(rest,
            "rootfs-ro\ntmpfs-rw\nvolume-rw\nread me\nro-volume-ro\nuid 1000 gid 1000\n"
            "CapEff:\t0000000000000000\nmkdir-denied\n");
  // The volume is the host's directory, written as the container's user.
  std::ifstream written(rw / "f");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(written), {}), "written\n");
  struct stat st {};
  ASSERT_EQ(::stat((rw / "f").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 1000u);
  EXPECT_FALSE(fs::exists(ro / "z"));
}

// --restart: the client starts the container again after it fails.
TEST_P(ClientTest, ARestartPolicyStartsTheContainerAgain) {
  std::string c = name("restart");
  ok({"run", "--detach", "--name", c, "--restart", "on-failure:1", kImage, "sh", "-c",
      "sleep 1; exit 1"});
  std::string count;
  for (int i = 0; i < 240; ++i) {
    count = inspect(c, "{{.RestartCount}}");
    if (count == "1" && inspect(c, "{{.State.Status}}") == "exited") break;
    std::this_thread::sleep_for(500ms);
  }
  EXPECT_EQ(count, "1");
  EXPECT_EQ(wait_status(c, "exited"), "exited");
  EXPECT_EQ(inspect(c, "{{.State.ExitCode}}"), "1");
}

INSTANTIATE_TEST_SUITE_P(Runtimes, ClientTest, ::testing::Values("runc", "vmrt"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace vmrt::clients_test
