#include "tests/rig/monitor/monitor_process.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "common/fd.h"
#include "common/fd_io.h"

namespace vmrt::monitor::test {
namespace {

using namespace std::chrono_literals;

constexpr uint16_t kPort = 18090;

Subprocess start(const std::filesystem::path& cli_root, const std::filesystem::path& shim_root) {
  return Subprocess::spawn({VMRT_MONITOR, "--listen", "127.0.0.1:" + std::to_string(kPort),
                            "--root", cli_root.string(), "--shim-root", shim_root.string(),
                            "--vm-timeout-ms", "5000"});
}

}  // namespace

MonitorProcess::MonitorProcess(const std::filesystem::path& cli_root,
                               const std::filesystem::path& shim_root)
    : process_(start(cli_root, shim_root)) {
  for (int i = 0; i < 200 && !scrape(); ++i) std::this_thread::sleep_for(50ms);
}

std::optional<std::string> MonitorProcess::scrape() const {
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

std::optional<double> sample(const std::string& page, const std::string& series) {
  size_t at = page.find("\n" + series + " ");
  if (at == std::string::npos) return std::nullopt;
  return std::stod(page.substr(at + series.size() + 2));
}

}  // namespace vmrt::monitor::test
