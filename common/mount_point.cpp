#include "common/mount_point.h"

#include <fcntl.h>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt {

void make_mount_point(const std::filesystem::path& source, const std::filesystem::path& target) {
  std::error_code ec;
  auto type = std::filesystem::status(source, ec).type();
  if (type == std::filesystem::file_type::not_found)
    fail("{}: no such file or directory", source.string());
  std::filesystem::create_directories(target.parent_path());
  if (type == std::filesystem::file_type::directory) {
    std::filesystem::create_directories(target);
    return;
  }
  UniqueFd f(::open(target.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  if (!f) throw_errno("create the mount point " + target.string());
}

}  // namespace vmrt
