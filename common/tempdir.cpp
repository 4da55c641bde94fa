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

// Empties the directory open at `dirfd` (path `where`, for messages), which
// lies on device `dev`.
void remove_contents(int dirfd, const std::filesystem::path& where, dev_t dev) {
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
      if (::fstat(sub.get(), &st) < 0) throw_errno("stat " + child.string());
      // A mount point: leave its contents alone; removing it will then fail.
      if (st.st_dev == dev) remove_contents(sub.get(), child, dev);
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
    if (::fstat(dir.get(), &st) < 0) throw_errno("stat " + path.string());
    remove_contents(dir.get(), path, st.st_dev);
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
