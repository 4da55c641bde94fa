#include "common/tempdir.h"

#include <dirent.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt {

namespace {

// The names in the directory open at `dirfd`, read before anything is
// removed: unlinking while readdir walks the same directory may skip entries.
std::vector<std::string> entries(int dirfd, const std::filesystem::path& where) {
  int fd = check_sys(::dup(dirfd), "dup");
  DIR* dir = ::fdopendir(fd);  // owns fd from here on
  if (!dir) {
    ::close(fd);
    throw_errno("open directory " + where.string());
  }
  std::vector<std::string> names;
  errno = 0;
  while (dirent* e = ::readdir(dir)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int err = errno;
  ::closedir(dir);
  if (err) throw_errno("read directory " + where.string(), err);
  return names;
}

// The id of the mount the file open at `fd` lies on. st_dev cannot tell a
// mount point: a bind mount of the same filesystem has its parent's device.
uint64_t mount_id(int fd, const std::filesystem::path& where) {
  struct statx stx {};
  if (::statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_MNT_ID, &stx) < 0)
    throw_errno("statx " + where.string());
  // Linux before 5.8 does not say: no way to tell, so nothing is removed.
  if (!(stx.stx_mask & STATX_MNT_ID))
    fail("{}: the kernel gives no mount id (statx STATX_MNT_ID): cannot tell mount points",
         where.string());
  return stx.stx_mnt_id;
}

[[noreturn]] void refuse_mount_point(const std::filesystem::path& where) {
  fail("{} is a mount point: not removed, nor anything in it", where.string());
}

// Empties the directory open at `dirfd` (path `where`, for messages), which
// lies on mount `mnt`.
void remove_contents(int dirfd, const std::filesystem::path& where, uint64_t mnt) {
  for (const std::string& name : entries(dirfd, where)) {
    std::filesystem::path child = where / name;
    struct stat st;
    if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) {
      if (errno == ENOENT) continue;
      throw_errno("stat " + child.string());
    }
    if (S_ISDIR(st.st_mode)) {
      UniqueFd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!sub) throw_errno("open directory " + child.string());
      // A mount point: its contents belong to whoever mounted them.
      if (mount_id(sub.get(), child) != mnt) refuse_mount_point(child);
      remove_contents(sub.get(), child, mnt);
    }
    int flags = S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0;
    if (::unlinkat(dirfd, name.c_str(), flags) < 0 && errno != ENOENT)
      throw_errno("remove " + child.string());
  }
}

}  // namespace

void remove_tree(const std::filesystem::path& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) < 0) {
    if (errno == ENOENT) return;
    throw_errno("stat " + path.string());
  }
  if (S_ISDIR(st.st_mode)) {
    UniqueFd dir(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!dir) throw_errno("open directory " + path.string());
    uint64_t mnt = mount_id(dir.get(), path);
    // The tree itself mounted over: what is there is not the tree's.
    std::filesystem::path self = std::filesystem::absolute(path).lexically_normal();
    if (!self.has_filename()) self = self.parent_path();  // "dir/" names dir
    std::filesystem::path parent = self.parent_path();
    UniqueFd up(::open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!up) throw_errno("open directory " + parent.string());
    if (mount_id(up.get(), parent) != mnt) refuse_mount_point(path);
    remove_contents(dir.get(), path, mnt);
    if (::rmdir(path.c_str()) < 0 && errno != ENOENT) throw_errno("remove " + path.string());
  } else if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    throw_errno("remove " + path.string());
  }
}

TempDir::TempDir(const std::string& prefix, std::filesystem::path base) {
  if (base.empty()) {
    const char* env = std::getenv("TMPDIR");
    base = env && *env ? env : "/tmp";
  }
  std::string templ = (base / (prefix + ".XXXXXX")).string();
  if (!mkdtemp(templ.data()))
    throw_errno("cannot create a temporary directory under " + base.string());
  path_ = templ;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  try {
    remove_tree(path_);
  } catch (const Error& e) {
    // A destructor must not throw; the leftover is worth a line in the log.
    spdlog::warn("temporary directory left behind: {}", e.what());
  }
}

}  // namespace vmrt
