#include "common/cgroup_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <sstream>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt {

std::string read_cgroup_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot read " + path.string());
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("cannot read " + path.string());
    if (n == 0) return out;
    out.append(buf, static_cast<size_t>(n));
  }
}

void write_cgroup_file(const std::filesystem::path& path, const std::string& value) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), value.data(), value.size()) < 0)
    throw_errno(fmt::format("cannot write \"{}\" to {}", value, path.string()));
}

std::set<std::string> cgroup_words(const std::string& text) {
  std::istringstream in(text);
  std::set<std::string> out;
  for (std::string w; in >> w;) out.insert(w);
  return out;
}

}  // namespace vmrt
