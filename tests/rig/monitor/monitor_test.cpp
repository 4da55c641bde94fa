// vmrt-monitor on a real pod VM (inside tools/testvm): a container started
// with the vmrt CLI shows up on /metrics under its sandbox id with the
// figures of a VM that ran (vCPU exits, virtio-fs requests, the VMM's
// memory), and is gone from the page once deleted.

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <thread>

#include "common/error.h"
#include "common/fd.h"
#include "common/fd_io.h"
#include "common/process.h"
#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using namespace std::chrono_literals;

// The rig is a VM of its own: this port is free there.
constexpr uint16_t kPort = 18090;

// GET /metrics; nullopt while nothing listens yet.
std::optional<std::string> scrape() {
  UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(kPort);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return std::nullopt;
  write_all(fd.get(), std::string_view("GET /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n"));
  std::string out;
  char buf[8192];
  ssize_t n;
  while ((n = ::read(fd.get(), buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

// The value of the sample line starting with `series` ("name{labels}").
std::optional<double> sample(const std::string& page, const std::string& series) {
  size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(page.substr(at + series.size() + 2));
}

class Monitor : public ::testing::Test {
 protected:
  void SetUp() override {
    SpawnOptions o;
    o.extra_env = {"VMRT_SHIM_ROOT=" + (cli_.dir() / "no-shim").string()};
    monitor_.emplace(
        Subprocess::spawn({VMRT_MONITOR, "--listen", "127.0.0.1:" + std::to_string(kPort), "--root",
                           cli_.root().string(), "--vm-timeout-ms", "5000"},
                          o));
    // Up once it answers: a bounded number of tries, not a time.
    for (int i = 0; i < 200 && !scrape(); ++i) std::this_thread::sleep_for(50ms);
  }

  VmrtCli cli_;
  std::optional<Subprocess> monitor_;
};

TEST_F(Monitor, ScrapesARunningContainersVm) {
  auto empty = scrape();
  ASSERT_TRUE(empty) << "vmrt-monitor never answered";
  EXPECT_THAT(*empty, HasSubstr("\nvmrt_pods 0\n"));

  auto b = cli_.bundle("b", {"sh", "-c", "ls -R / >/dev/null; sleep 1000"});
  ASSERT_TRUE(cli_.detached_ok({"run", "-d", "-b", b.string(), "watched"}));

  auto page = scrape();
  ASSERT_TRUE(page);
  EXPECT_THAT(*page, ::testing::StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_pods 1\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_monitor_scrape_errors_total 0\n"));
  EXPECT_THAT(*page, HasSubstr("\nvmrt_vm_state{sandbox=\"watched\",state=\"running\"} 1\n"));
  // A booted guest has left its boot vCPU many times.
  auto exits = sample(*page, "vmrt_vmm_vcpu_exits_total{sandbox=\"watched\",vcpu=\"0\"}");
  ASSERT_TRUE(exits) << *page;
  EXPECT_GT(*exits, 0);
  // The container's rootfs is on virtio-fs: the guest looked files up.
  auto lookups =
      sample(*page, "vmrt_vmm_virtio_fs_requests_total{sandbox=\"watched\",opcode=\"LOOKUP\"}");
  ASSERT_TRUE(lookups) << *page;
  EXPECT_GT(*lookups, 0);
  auto rss = sample(*page, "vmrt_vmm_resident_memory_bytes{sandbox=\"watched\"}");
  ASSERT_TRUE(rss) << *page;
  EXPECT_GT(*rss, 0);
  auto base = sample(*page, "vmrt_vm_memory_base_bytes{sandbox=\"watched\"}");
  ASSERT_TRUE(base) << *page;
  EXPECT_GT(*base, 0);

  // Counters only grow.
  auto again = scrape();
  ASSERT_TRUE(again);
  auto later = sample(*again, "vmrt_vmm_vcpu_exits_total{sandbox=\"watched\",vcpu=\"0\"}");
  ASSERT_TRUE(later);
  EXPECT_GE(*later, *exits);

  EXPECT_TRUE(cli_.run({"delete", "--force", "watched"}).status.success());
  auto after = scrape();
  ASSERT_TRUE(after);
  EXPECT_THAT(*after, HasSubstr("\nvmrt_pods 0\n"));
  EXPECT_THAT(*after, Not(HasSubstr("watched")));
}

}  // namespace
}  // namespace vmrt::cli::test
