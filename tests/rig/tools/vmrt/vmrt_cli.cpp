#include "tests/rig/tools/vmrt/vmrt_cli.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "tests/rig/support/host_state.h"

namespace vmrt::cli::test {

using namespace std::chrono_literals;

using vmrt::test::read_text;

// Under /tmp: in the rig that is a private tmpfs, while the host's root
// (where the build tree is) is read-only.
VmrtCli::VmrtCli() : dir_("vmrt-cli", "/tmp") {}

VmrtCli::~VmrtCli() {
  // A failed test may leave containers: remove them so the next test starts
  // clean (and so the leak check of the next test blames the right one).
  if (std::filesystem::exists(root()))
    for (const auto& e : std::filesystem::directory_iterator(root()))
      run({"delete", "--force", e.path().filename().string()}, "", 60s);
}

RunResult VmrtCli::run(const std::vector<std::string>& args, const std::string& input,
                       std::chrono::seconds timeout) const {
  std::vector<std::string> argv = {VMRT_CLI, "--root", root().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.extra_env = {"VMRT_CONFIG=" + config_.string()};
  UniqueFd in;
  if (!input.empty()) {
    // A file rather than a pipe: the whole input is there, then end of file.
    std::filesystem::path f = dir() / "stdin";
    std::ofstream(f, std::ios::binary) << input;
    in.reset(::open(f.c_str(), O_RDONLY | O_CLOEXEC));
    o.in = Stdio::to_fd(in.get());
  }
  return run_capture(argv, timeout, o);
}

::testing::AssertionResult VmrtCli::detached_ok(const std::vector<std::string>& args) const {
  RunResult r = run_detached(args);
  if (r.status.success()) return ::testing::AssertionSuccess();
  std::string command;
  for (const auto& a : args) command += " " + a;
  return ::testing::AssertionFailure()
         << "vmrt" << command << ": " << (r.timed_out ? "timed out" : r.status.to_string())
         << "\nstdout: " << r.out << "\nstderr: " << r.err;
}

RunResult VmrtCli::run_detached(const std::vector<std::string>& args,
                                std::chrono::seconds timeout) const {
  static int serial = 0;
  std::filesystem::path out = dir() / fmt::format("out.{}", serial),
                        err = dir() / fmt::format("err.{}", serial);
  ++serial;
  auto open_file = [](const std::filesystem::path& p) {
    return UniqueFd(::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
  };
  UniqueFd out_fd = open_file(out), err_fd = open_file(err);
  std::vector<std::string> argv = {VMRT_CLI, "--root", root().string()};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions o;
  o.extra_env = {"VMRT_CONFIG=" + config_.string()};
  o.out = Stdio::to_fd(out_fd.get());
  o.err = Stdio::to_fd(err_fd.get());
  Subprocess p = Subprocess::spawn(argv, o);
  RunResult r;
  auto status = p.wait_for(timeout);
  r.timed_out = !status;
  r.status = status ? *status : ExitStatus{};
  r.out = read_text(out);
  r.err = read_text(err);
  return r;
}

std::filesystem::path VmrtCli::bundle(const std::string& name, const std::vector<std::string>& args,
                                      const std::function<void(nlohmann::json&)>& edit) const {
  std::filesystem::path b = dir() / name;
  vmrt::test::make_busybox_rootfs(b / "rootfs");
  RunResult spec = run({"spec", "--bundle", b.string()});
  EXPECT_TRUE(spec.status.success()) << spec.err;
  nlohmann::json j = nlohmann::json::parse(read_text(b / "config.json"));
  j["process"]["terminal"] = false;
  j["process"]["args"] = args;
  if (edit) edit(j);
  std::ofstream(b / "config.json") << j.dump(2);
  return b;
}

nlohmann::json VmrtCli::state(const std::string& id) const {
  RunResult r = run({"state", id});
  EXPECT_TRUE(r.status.success()) << "vmrt state " << id << ": " << r.err;
  if (!r.status.success()) return {};
  return nlohmann::json::parse(r.out);
}

std::string VmrtCli::wait_status(const std::string& id, const std::string& status) const {
  auto deadline = std::chrono::steady_clock::now() + 120s;
  std::string last;
  while (std::chrono::steady_clock::now() < deadline) {
    RunResult r = run({"state", id});
    if (r.status.success()) {
      last = nlohmann::json::parse(r.out).value("status", "");
      if (last == status) return last;
    } else {
      last = "(state failed: " + r.err + ")";
    }
    std::this_thread::sleep_for(200ms);
  }
  return last;
}

nlohmann::json VmrtCli::record(const std::string& id) const {
  std::ifstream in(root() / id / "state.json");
  return nlohmann::json::parse(in);
}

pid_t VmrtCli::recorded_pid(const std::string& id, const std::string& role) const {
  return record(id)[role]["pid"].get<pid_t>();
}

std::vector<std::string> VmrtCli::leftovers() const {
  return vmrt::test::settled([this] {
    std::vector<std::string> left;
    for (const auto& p : vmrt::test::processes_named("/vmrt-vmm")) left.push_back("process: " + p);
    for (const auto& p : vmrt::test::processes_named("/vmrt"))
      if (p.find(root().string()) != std::string::npos) left.push_back("keeper: " + p);
    if (std::filesystem::exists(root()))
      for (const auto& e : std::filesystem::directory_iterator(root()))
        left.push_back("state: " + e.path().string());
    for (const auto& m : vmrt::test::mounts_under(dir())) left.push_back("mount: " + m);
    for (const auto& c : vmrt::test::vmm_cgroups()) left.push_back("cgroup: " + c);
    return left;
  });
}

// Reads `fd` until `needle` shows up or `timeout` passes; what was read.
std::string read_until(int fd, const std::string& needle, std::chrono::seconds timeout) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (got.find(needle) == std::string::npos && std::chrono::steady_clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, n);
  }
  return got;
}

}  // namespace vmrt::cli::test
