#include "sandbox/template_record.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <fstream>

#include "common/error.h"

namespace vmrt::sandbox {

namespace fs = std::filesystem;
using nlohmann::json;

json file_identity(const fs::path& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) throw_errno("VM template: " + p.string());
  auto ns = [](const timespec& t) { return int64_t(t.tv_sec) * 1'000'000'000 + t.tv_nsec; };
  return {{"path", p.string()}, {"dev", st.st_dev},           {"ino", st.st_ino},
          {"size", st.st_size}, {"mtime_ns", ns(st.st_mtim)}, {"ctime_ns", ns(st.st_ctim)}};
}

namespace {

// The identity of the template's state file, or null when there is none
// (the template is gone).
json state_identity(const fs::path& dir) {
  try {
    return file_identity(dir / "state");
  } catch (const Error&) {
    return nullptr;
  }
}

}  // namespace

TemplateLock::TemplateLock(const fs::path& path)
    : fd_(check_sys(::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600),
                    "create " + path.string())) {
  while (::flock(fd_.get(), LOCK_EX) != 0)
    if (errno != EINTR) throw_errno("lock " + path.string());
}

fs::path TemplateLock::path_for(const fs::path& dir) {
  return dir.parent_path() / (dir.filename().string() + ".lock");
}

RestoreRecord::RestoreRecord(fs::path dir) : dir_(std::move(dir)), state_(state_identity(dir_)) {}

bool RestoreRecord::same_template() const {
  return !state_.is_null() && state_identity(dir_) == state_;
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
