#include "sandbox/template_record.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <fstream>

#include "common/error.h"

namespace vmrt::sandbox {

namespace fs = std::filesystem;

TemplateLock::TemplateLock(const fs::path& path)
    : fd_(check_sys(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600),
                    "create " + path.string())) {
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw_errno("lock " + path.string());
}

fs::path TemplateLock::path_for(const fs::path& dir) {
  return dir.parent_path() / (dir.filename().string() + ".lock");
}

RestoreRecord::RestoreRecord(fs::path dir) : dir_(std::move(dir)) {
  struct stat st {};
  if (::stat((dir_ / "state").c_str(), &st) == 0) {
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    written_ = st.st_mtim;
  }
}

bool RestoreRecord::same_template() const {
  struct stat st {};
  return ino_ != 0 && ::stat((dir_ / "state").c_str(), &st) == 0 && st.st_dev == dev_ &&
         st.st_ino == ino_ && st.st_mtim.tv_sec == written_.tv_sec &&
         st.st_mtim.tv_nsec == written_.tv_nsec;
}

bool RestoreRecord::failed(bool snapshot_unusable) noexcept {
  try {
    TemplateLock lock(TemplateLock::path_for(dir_));
    // Already discarded, or made again since: nothing of ours to count.
    if (!same_template()) return false;
    int failures = 0;
    std::ifstream(failures_file()) >> failures;
    ++failures;
    if (snapshot_unusable || failures >= kMaxFailedRestores) {
      fs::remove_all(dir_);
      return true;
    }
    std::ofstream(failures_file(), std::ios::trunc) << failures << "\n";
  } catch (const std::exception& e) {
    spdlog::warn("VM template {}: cannot count a failed restore: {}", dir_.string(), e.what());
  }
  return false;
}

void RestoreRecord::succeeded() noexcept {
  // No lock: a count removed beside a concurrent failure only forgets that
  // one, and this path is every restored sandbox's start.
  std::error_code ignored;
  fs::remove(failures_file(), ignored);
}

}  // namespace vmrt::sandbox
