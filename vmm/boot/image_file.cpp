#include "vmm/boot/image_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"
#include "vmm/boot/mib.h"

namespace vmrt::vmm::boot {

ImageFile read_image_file(const std::string& what, const std::string& path, uint64_t max) {
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
  // MAP_PRIVATE: later changes to the file do not reach the mapping's
  // already-read pages, and the loader can never write through to it.
  return ImageFile(Mapping::of_fd(fd.get(), size, 0, PROT_READ, MAP_PRIVATE));
}

}  // namespace vmrt::vmm::boot
