#include "vmm/fuse/request.h"

#include <linux/limits.h>

#include <cerrno>
#include <cstring>

namespace vmrt::fuse {

int Request::read_string(std::string& out, size_t max) {
  if (!args.read_cstring(out, max)) {
    // Either no NUL at all within the request, or a string longer than max.
    std::string ignored;
    return args.read_cstring(ignored, args.remaining()) ? ENAMETOOLONG : EINVAL;
  }
  return out.empty() ? EINVAL : 0;
}

int Request::read_name(std::string& out) {
  if (int err = read_string(out, NAME_MAX)) return err;
  if (out.find('/') != std::string::npos) return EINVAL;
  return 0;
}

std::optional<Request> parse_request(std::span<const iovec> in, uint64_t& unique) {
  Request req;
  IoCursor cursor(in);
  unique = 0;
  if (!cursor.read(&req.header, sizeof req.header)) return std::nullopt;
  unique = req.header.unique;
  size_t len = req.header.len;
  size_t ext = static_cast<size_t>(req.header.total_extlen) * 8;
  if (len < sizeof req.header || len - sizeof req.header > cursor.remaining() ||
      ext > len - sizeof req.header)
    return std::nullopt;
  req.args = IoCursor(in, len - ext);
  req.args.skip(sizeof req.header);
  return req;
}

}  // namespace vmrt::fuse
