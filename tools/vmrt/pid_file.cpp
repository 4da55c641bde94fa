#include "tools/vmrt/pid_file.h"

#include <filesystem>
#include <fstream>

#include "common/error.h"

namespace vmrt::cli {

void write_pid_file(const std::string& path, pid_t pid) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << pid;  // no newline, as runc writes it
    if (!out.flush()) fail("cannot write pid file {}", path);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) fail("cannot write pid file {}: {}", path, ec.message());
}

}  // namespace vmrt::cli
