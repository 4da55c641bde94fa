#include "monitor/bounded_file.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::monitor {

std::optional<std::string> read_bounded(const std::filesystem::path& path, size_t max) {
  // Not a stream: libstdc++ throws its own exception for a procfs read that
  // fails with ESRCH (the process ended after the open).
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (raw < 0) {
    if (errno == ENOENT || errno == ESRCH) return std::nullopt;
    throw_errno("cannot open " + path.string());
  }
  UniqueFd fd(raw);
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == ESRCH) return std::nullopt;
    if (n < 0) throw_errno("cannot read " + path.string());
    if (n == 0) return text;
    if (text.size() + static_cast<size_t>(n) > max)
      fail("{} is larger than {} bytes", path.string(), max);
    text.append(buf, static_cast<size_t>(n));
  }
}

}  // namespace vmrt::monitor
