#include "common/container_id.h"

#include <algorithm>
#include <cerrno>

#include "common/error.h"

namespace vmrt {

void check_container_id(const std::string& id) {
  auto word = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  };
  auto other = [&](char c) { return word(c) || c == '_' || c == '+' || c == '.' || c == '-'; };
  bool ok = !id.empty() && id.size() <= 1024 && word(id[0]) &&
            std::all_of(id.begin() + 1, id.end(), other) && id != "." && id != "..";
  // EINVAL: a ttrpc server answers InvalidArgument.
  if (!ok)
    throw Error(
        fmt::format("invalid container ID \"{}\": use [A-Za-z0-9][A-Za-z0-9_+.-]*, 1024 at most",
                    id),
        EINVAL);
}

}  // namespace vmrt
