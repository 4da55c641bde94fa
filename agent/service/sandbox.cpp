#include "agent/service/sandbox.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <fstream>

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

Sandbox::Sandbox(const v1::CreateSandboxRequest& request, const AgentOptions& options) {
  const auto& fs = request.shared_fs();
  if (!request.hostname().empty()) check_hostname(request.hostname());
  std::string resolv = resolv_conf({request.dns_servers().begin(), request.dns_servers().end()},
                                   {request.dns_searches().begin(), request.dns_searches().end()},
                                   {request.dns_options().begin(), request.dns_options().end()});
  shared_dir_ = fs.mount_point().empty() ? kDefaultSharedDir : fs.mount_point();
  if (!shared_dir_.is_absolute())
    reject(grpc::StatusCode::INVALID_ARGUMENT, "shared_fs.mount_point \"{}\": must be absolute",
           shared_dir_.string());
  for (char c : fs.mount_tag())
    if (c == '\0' || c == '\n')
      reject(grpc::StatusCode::INVALID_ARGUMENT, "shared_fs.mount_tag: holds a control character");

  std::filesystem::create_directories(options.state_dir);
  if (!request.hostname().empty()) {
    if (options.guest && ::sethostname(request.hostname().data(), request.hostname().size()) < 0)
      throw_errno("sethostname " + request.hostname());
    write_file(options.state_dir / "hostname", request.hostname() + "\n");
  }
  if (!resolv.empty()) {
    write_file(options.state_dir / "resolv.conf", resolv);
    if (options.guest) write_file("/etc/resolv.conf", resolv);
  }

  if (fs.mount_tag().empty()) {
    if (!std::filesystem::is_directory(shared_dir_))
      reject(grpc::StatusCode::INVALID_ARGUMENT,
             "shared_fs.mount_point {}: no such directory (and no mount_tag to mount there)",
             shared_dir_.string());
    return;
  }
  std::filesystem::create_directories(shared_dir_);
  if (::mount(fs.mount_tag().c_str(), shared_dir_.c_str(), "virtiofs", MS_NOSUID | MS_NODEV,
              nullptr) < 0)
    throw_errno(fmt::format("mount virtiofs {} on {}", fs.mount_tag(), shared_dir_.string()));
  mounted_ = true;
  spdlog::info("shared filesystem {} mounted on {}", fs.mount_tag(), shared_dir_.string());
}

Sandbox::~Sandbox() {
  if (mounted_ && ::umount2(shared_dir_.c_str(), MNT_DETACH) < 0)
    spdlog::warn("cannot unmount {}: {}", shared_dir_.string(), std::strerror(errno));
}

}  // namespace vmrt::agent
