#pragma once
// --pid-file: written whole, through a temporary file renamed into place, so
// that a supervisor polling for it never reads a partial number.

#include <sys/types.h>

#include <string>

namespace vmrt::cli {

void write_pid_file(const std::string& path, pid_t pid);

}  // namespace vmrt::cli
