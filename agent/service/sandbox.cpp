#include "agent/service/sandbox.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

#include "agent/init/fresh_start.h"
#include "agent/network/network_config.h"
#include "agent/service/request_error.h"
#include "agent/service/request_parse.h"

namespace vmrt::agent {
namespace {

constexpr const char* kDefaultSharedDir = "/run/vmrt/shared";

void write_file(const std::filesystem::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  out.close();
  if (!out) fail("cannot write {}", path.string());
}

}  // namespace

SandboxPlan plan_sandbox(const v1::CreateSandboxRequest& request) {
  SandboxPlan plan;
  const auto& fs = request.shared_fs();
  if (!request.hostname().empty()) check_hostname(request.hostname());
  plan.hostname = request.hostname();
  plan.resolv_conf = resolv_conf({request.dns_servers().begin(), request.dns_servers().end()},
                                 {request.dns_searches().begin(), request.dns_searches().end()},
                                 {request.dns_options().begin(), request.dns_options().end()});
  plan.shared_dir = fs.mount_point().empty() ? kDefaultSharedDir : fs.mount_point();
  if (!plan.shared_dir.is_absolute())
    reject(Code::InvalidArgument, "shared_fs.mount_point \"{}\": must be absolute",
           plan.shared_dir.string());
  for (char c : fs.mount_tag())
    if (c == '\0' || c == '\n')
      reject(Code::InvalidArgument, "shared_fs.mount_tag: holds a control character");
  plan.mount_tag = fs.mount_tag();
  plan.network = network::parse_network(request);
  if (request.realtime_ns() < 0)
    reject(Code::InvalidArgument, "realtime_ns {}: before the epoch", request.realtime_ns());
  plan.realtime_ns = request.realtime_ns();
  if (request.entropy().size() > kMaxEntropyBytes)
    reject(Code::InvalidArgument, "entropy: {} bytes, at most {}", request.entropy().size(),
           kMaxEntropyBytes);
  plan.entropy = request.entropy();
  plan.debug_console = request.debug_console();
  return plan;
}

Sandbox::Sandbox(const v1::CreateSandboxRequest& request, const AgentOptions& options) {
  const SandboxPlan plan = plan_sandbox(request);
  shared_dir_ = plan.shared_dir;
  debug_console_ = plan.debug_console;
  if (plan.debug_console) spdlog::warn("debug console allowed: the host may run guest root shells");
  if (plan.mount_tag.empty() && !std::filesystem::is_directory(shared_dir_))
    reject(Code::InvalidArgument,
           "shared_fs.mount_point {}: no such directory (and no mount_tag to mount there)",
           shared_dir_.string());

  std::filesystem::create_directories(options.state_dir);
  // First: what follows may already draw random numbers or stamp times.
  if (options.guest) {
    if (plan.realtime_ns) set_realtime_clock(plan.realtime_ns);
    reseed_entropy({reinterpret_cast<const uint8_t*>(plan.entropy.data()), plan.entropy.size()});
  }
  if (!plan.hostname.empty()) {
    if (options.guest && ::sethostname(plan.hostname.data(), plan.hostname.size()) < 0)
      throw_errno("sethostname " + plan.hostname);
    write_file(options.state_dir / "hostname", plan.hostname + "\n");
  }
  if (!plan.resolv_conf.empty()) {
    write_file(options.state_dir / "resolv.conf", plan.resolv_conf);
    if (options.guest) write_file("/etc/resolv.conf", plan.resolv_conf);
  }

  // The guest always gets its loopback up; elsewhere (host tests) the
  // agent's namespace is only touched when asked.
  if (options.guest || !plan.network.empty()) network_.emplace(plan.network);

  if (plan.mount_tag.empty()) return;
  std::filesystem::create_directories(shared_dir_);
  if (::mount(plan.mount_tag.c_str(), shared_dir_.c_str(), "virtiofs", MS_NOSUID | MS_NODEV,
              nullptr) < 0)
    throw_errno(fmt::format("mount virtiofs {} on {}", plan.mount_tag, shared_dir_.string()));
  mounted_ = true;
  spdlog::info("shared filesystem {} mounted on {}", plan.mount_tag, shared_dir_.string());
}

Sandbox::~Sandbox() {
  if (mounted_ && ::umount2(shared_dir_.c_str(), MNT_DETACH) < 0)
    spdlog::warn("cannot unmount {}: {}", shared_dir_.string(), std::strerror(errno));
}

}  // namespace vmrt::agent
