#include "shim/rootfs_mounts.h"

#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <map>
#include <utility>

#include "common/error.h"

namespace vmrt::shim {

MountArgs mount_args(const MountSpec& m) {
  static const std::map<std::string, std::pair<bool, unsigned long>> kFlags = {
      // option -> (clears the flag?, flag)
      {"ro", {false, MS_RDONLY}},        {"rw", {true, MS_RDONLY}},
      {"nosuid", {false, MS_NOSUID}},    {"suid", {true, MS_NOSUID}},
      {"nodev", {false, MS_NODEV}},      {"dev", {true, MS_NODEV}},
      {"noexec", {false, MS_NOEXEC}},    {"exec", {true, MS_NOEXEC}},
      {"noatime", {false, MS_NOATIME}},  {"relatime", {false, MS_RELATIME}},
      {"bind", {false, MS_BIND}},        {"rbind", {false, MS_BIND | MS_REC}},
      {"sync", {false, MS_SYNCHRONOUS}}, {"nodiratime", {false, MS_NODIRATIME}},
  };
  MountArgs a;
  if (m.type == "bind") a.flags |= MS_BIND;
  for (const auto& o : m.options) {
    if (auto f = kFlags.find(o); f != kFlags.end()) {
      if (f->second.first)
        a.flags &= ~f->second.second;
      else
        a.flags |= f->second.second;
    } else if (o != "defaults") {
      if (!a.data.empty()) a.data += ',';
      a.data += o;
    }
  }
  return a;
}

RootfsMounts::RootfsMounts(const std::vector<MountSpec>& mounts,
                           const std::filesystem::path& target)
    : target_(target) {
  std::filesystem::create_directories(target);
  for (const auto& m : mounts) {
    MountArgs a = mount_args(m);
    std::string what =
        fmt::format("mount the rootfs ({} {}) at {}", m.type, m.source, target.string());
    const char* type = (a.flags & MS_BIND) ? nullptr : m.type.c_str();
    // A read-only bind is a bind, then a remount: mount(2) ignores MS_RDONLY
    // on the first call.
    unsigned long first = (a.flags & MS_BIND) ? a.flags & ~MS_RDONLY : a.flags;
    if (::mount(m.source.c_str(), target.c_str(), type, first,
                a.data.empty() ? nullptr : a.data.c_str()) < 0) {
      int err = errno;
      unmount_all();
      throw_errno(what, err);
    }
    ++count_;
    if ((a.flags & MS_BIND) && (a.flags & MS_RDONLY) &&
        ::mount(nullptr, target.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) < 0) {
      int err = errno;
      unmount_all();
      throw_errno(what + " read-only", err);
    }
  }
}

RootfsMounts::RootfsMounts(RootfsMounts&& other) noexcept
    : target_(std::move(other.target_)), count_(std::exchange(other.count_, 0)) {}

RootfsMounts& RootfsMounts::operator=(RootfsMounts&& other) noexcept {
  if (this != &other) {
    unmount_all();
    target_ = std::move(other.target_);
    count_ = std::exchange(other.count_, 0);
  }
  return *this;
}

RootfsMounts::~RootfsMounts() { unmount_all(); }

void RootfsMounts::unmount_all() noexcept {
  for (; count_ > 0; --count_)
    if (::umount2(target_.c_str(), MNT_DETACH) < 0)
      spdlog::warn("unmount {}: {}", target_.string(), std::strerror(errno));
}

}  // namespace vmrt::shim
