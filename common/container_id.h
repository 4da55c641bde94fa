#pragma once
// The container (task) ids the host side accepts: the vmrt CLI and the shim
// both build paths and cgroup names from them, so both check them with these
// rules before anything is named after one.

#include <string>

namespace vmrt {

// The container ids runc accepts: [A-Za-z0-9][A-Za-z0-9_+.-]*, at most 1024
// characters, not "." or "..". No "/", no control characters, nothing that
// steps out of a directory. Throws vmrt::Error (errno EINVAL) naming the id.
void check_container_id(const std::string& id);

}  // namespace vmrt
