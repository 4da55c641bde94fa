#include "vmm/boot/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "vmm/boot/mib.h"

namespace vmrt::vmm::boot {

std::vector<uint8_t> read_image_file(const std::string& what, const std::string& path,
                                     uint64_t max) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno(fmt::format("cannot open {} {}", what, path));
  struct stat st;
  check_sys(fstat(fd.get(), &st), "stat " + path);
  if (!S_ISREG(st.st_mode)) fail("{} {} is not a regular file", what, path);
  if (st.st_size == 0) fail("{} {} is empty", what, path);
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > max)
    fail("{} {} of {} MiB does not fit in {} MiB of guest RAM", what, path, mib_ceil(size),
         max >> 20);
  std::vector<uint8_t> data(size);
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd.get(), data.data() + done, size - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno(fmt::format("cannot read {} {}", what, path));
    if (n == 0) fail("{} {} shrank while being read", what, path);
    done += static_cast<size_t>(n);
  }
  return data;
}

}  // namespace vmrt::vmm::boot
