#include "sandbox/share_mount.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <unistd.h>

#include <utility>

#include "common/error.h"
#include "common/mount_point.h"

namespace vmrt::sandbox {

ShareMount::ShareMount(const std::filesystem::path& source, std::filesystem::path target)
    : target_(std::move(target)) {
  try {
    make_mount_point(source, target_);
  } catch (...) {
    target_.clear();  // nothing mounted: nothing for the destructor
    throw;
  }
  std::error_code ec;
  auto what = fmt::format("bind-mount {} at {}", source.string(), target_.string());
  if (::mount(source.c_str(), target_.c_str(), nullptr, MS_BIND | MS_REC, nullptr) < 0) {
    int err = errno;
    std::filesystem::remove(target_, ec);
    target_.clear();
    errno = err;
    throw_errno(what);
  }
}

ShareMount::ShareMount(ShareMount&& other) noexcept : target_(std::exchange(other.target_, {})) {}

ShareMount::~ShareMount() {
  try {
    unmount();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

void ShareMount::unmount() {
  if (target_.empty()) return;
  std::filesystem::path target = std::exchange(target_, {});
  if (::umount2(target.c_str(), MNT_DETACH) < 0) throw_errno("unmount " + target.string());
  std::error_code ec;
  std::filesystem::remove(target, ec);
  std::filesystem::remove(target.parent_path(), ec);  // shared/<id>, when empty
}

}  // namespace vmrt::sandbox
