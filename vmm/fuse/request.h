#pragma once
// One FUSE request as read from the transport: its header, copied out and
// checked, and a cursor over its argument bytes. Everything here is hostile
// input: lengths are checked against the buffers, names must end in NUL
// within their limit, structures are copied before they are looked at (the
// guest may change its memory while we read it).

#include <linux/fuse.h>

#include <optional>
#include <span>
#include <string>

#include "vmm/fuse/io_cursor.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {

struct Request {
  fuse_in_header header{};
  IoCursor args;  // the bytes after the header, up to header.len
  // Where a reply sent later goes (Server::handle's `later`), or null.
  const Server::Deferred* later = nullptr;

  // Copies the fixed-size argument structure. False when the request is
  // shorter than `T`.
  template <typename T>
  bool read(T& out) {
    return args.read(&out, sizeof out);
  }
  // Like read(), but the request may carry only the first `min` bytes of
  // `T` (older protocol minors send shorter structures); the rest is zero.
  template <typename T>
  bool read_prefix(T& out, size_t min) {
    out = T{};
    size_t n = std::min(sizeof out, args.remaining());
    return n >= min && args.read(&out, n);
  }

  // Reads a name of one path component: 1..NAME_MAX bytes, NUL-terminated,
  // no '/'. Returns 0 or the errno to answer (EINVAL, ENAMETOOLONG).
  int read_name(std::string& out);
  // Reads a NUL-terminated string of 1..`max` bytes (a symlink target, an
  // xattr name). Returns 0 or the errno to answer.
  int read_string(std::string& out, size_t max);
};

// Parses the header from the readable buffers. The header's `len` must cover
// the header itself and fit in the buffers (which may be longer: virtio-fs
// buffers are sized by the guest); extension bytes (total_extlen) are cut
// off the argument cursor. Nullopt when the header is short or its lengths
// do not fit; `unique` then still gets the request id when the header was
// readable, so that the error reply can name it.
std::optional<Request> parse_request(std::span<const iovec> in, uint64_t& unique);

}  // namespace vmrt::fuse
