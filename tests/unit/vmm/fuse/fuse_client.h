#pragma once
// A FUSE client for tests: builds requests as the kernel would (header,
// argument structure, NUL-terminated names, data), hands them to a Server in
// buffers split wherever the test asks, and decodes the reply.

#include <linux/fuse.h>
#include <sys/uio.h>

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "vmm/fuse/server.h"

namespace vmrt::fuse::test {

// Request bytes under construction.
class RequestBuilder {
 public:
  RequestBuilder(uint32_t opcode, uint64_t nodeid) {
    header_.opcode = opcode;
    header_.nodeid = nodeid;
    header_.unique = ++next_unique_;
  }
  template <typename T>
  RequestBuilder& arg(const T& value) {
    return bytes(&value, sizeof value);
  }
  RequestBuilder& name(const std::string& s) { return bytes(s.c_str(), s.size() + 1); }
  RequestBuilder& bytes(const void* p, size_t n) {
    body_.append(static_cast<const char*>(p), n);
    return *this;
  }
  fuse_in_header& header() { return header_; }
  // The whole request; header.len is set to its size unless a test set it.
  std::string build() const {
    fuse_in_header h = header_;
    if (h.len == 0) h.len = static_cast<uint32_t>(sizeof h + body_.size());
    std::string out(reinterpret_cast<const char*>(&h), sizeof h);
    return out + body_;
  }

 private:
  static inline uint64_t next_unique_ = 0;
  fuse_in_header header_{};
  std::string body_;
};

struct Response {
  size_t written = 0;  // what handle() returned: Server::kDeferred when parked
  fuse_out_header header{};
  std::string body;
  int error() const { return -header.error; }
  template <typename T>
  T as() const {
    T out{};
    std::memcpy(&out, body.data(), std::min(sizeof out, body.size()));
    return out;
  }
};

// Splits `data` into segments of at most `chunk` bytes (0: one segment).
inline std::vector<iovec> split(std::string& data, size_t chunk) {
  std::vector<iovec> out;
  if (chunk == 0) chunk = data.size() ? data.size() : 1;
  for (size_t i = 0; i < data.size(); i += chunk)
    out.push_back({data.data() + i, std::min(chunk, data.size() - i)});
  return out;
}

inline Response decode(const char* data, size_t len) {
  Response r;
  r.written = len;
  if (len >= sizeof r.header) {
    std::memcpy(&r.header, data, sizeof r.header);
    r.body.assign(data + sizeof r.header, len - sizeof r.header);
  }
  return r;
}

// Collects the replies the server sends later (parked SETLKW), as a
// transport would, by request id.
class DeferredReplies {
 public:
  Server::Deferred sink() {
    return [this](std::span<const std::byte> reply) {
      Response r = decode(reinterpret_cast<const char*>(reply.data()), reply.size());
      std::lock_guard lock(mu_);
      ++count_[r.header.unique];
      replies_[r.header.unique] = r;
      cv_.notify_all();
    };
  }
  // The reply to request `unique`, waiting up to `timeout` for it.
  std::optional<Response> wait(uint64_t unique,
                               std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, timeout, [&] { return replies_.count(unique) > 0; }))
      return std::nullopt;
    return replies_[unique];
  }
  bool has(uint64_t unique) {
    std::lock_guard lock(mu_);
    return replies_.count(unique) > 0;
  }
  // Replies sent for `unique` (a request is answered once).
  int count(uint64_t unique) {
    std::lock_guard lock(mu_);
    return count_[unique];
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<uint64_t, Response> replies_;
  std::map<uint64_t, int> count_;
};

class Client {
 public:
  explicit Client(Server& server) : server_(server) {}
  // Requests sent from now on may be parked, their replies going to `replies`.
  void defer_to(DeferredReplies& replies) { later_ = replies.sink(); }

  // Sends raw request bytes split into `in_chunk`-byte segments, with an
  // `out_size`-byte reply buffer split into `out_chunk`-byte segments.
  Response send_raw(std::string request, size_t in_chunk = 0, size_t out_size = 1 << 21,
                    size_t out_chunk = 0) {
    std::string out(out_size, '\xee');
    auto in_iov = split(request, in_chunk);
    auto out_iov = split(out, out_chunk);
    size_t n = server_.handle(in_iov, out_iov, later_);
    if (n == Server::kDeferred) return Response{n, {}, {}};
    return decode(out.data(), n);
  }
  Response send(const RequestBuilder& b, size_t in_chunk = 0) {
    return send_raw(b.build(), in_chunk);
  }

  Response init() {
    fuse_init_in in{};
    in.major = FUSE_KERNEL_VERSION;
    in.minor = FUSE_KERNEL_MINOR_VERSION;
    in.max_readahead = 128 * 1024;
    in.flags = 0xffffffff & ~FUSE_INIT_EXT;
    return send(RequestBuilder(FUSE_INIT, 0).arg(in));
  }
  // LOOKUP name in parent: the entry, or error() on the response.
  Response lookup(uint64_t parent, const std::string& name) {
    return send(RequestBuilder(FUSE_LOOKUP, parent).name(name));
  }
  uint64_t nodeid(uint64_t parent, const std::string& name) {
    return lookup(parent, name).as<fuse_entry_out>().nodeid;
  }
  Response create(uint64_t parent, const std::string& name, uint32_t flags, uint32_t mode) {
    fuse_create_in in{};
    in.flags = flags;
    in.mode = mode;
    return send(RequestBuilder(FUSE_CREATE, parent).arg(in).name(name));
  }
  Response open(uint64_t node, uint32_t flags, uint32_t opcode = FUSE_OPEN) {
    fuse_open_in in{};
    in.flags = flags;
    return send(RequestBuilder(opcode, node).arg(in));
  }
  Response read(uint64_t node, uint64_t fh, uint64_t offset, uint32_t size,
                uint32_t opcode = FUSE_READ) {
    fuse_read_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = size;
    return send(RequestBuilder(opcode, node).arg(in));
  }
  Response write(uint64_t node, uint64_t fh, uint64_t offset, const std::string& data,
                 size_t in_chunk = 0) {
    fuse_write_in in{};
    in.fh = fh;
    in.offset = offset;
    in.size = static_cast<uint32_t>(data.size());
    return send(RequestBuilder(FUSE_WRITE, node).arg(in).bytes(data.data(), data.size()), in_chunk);
  }
  Response release(uint64_t node, uint64_t fh, uint32_t opcode = FUSE_RELEASE) {
    fuse_release_in in{};
    in.fh = fh;
    return send(RequestBuilder(opcode, node).arg(in));
  }
  void forget(uint64_t node, uint64_t n) {
    fuse_forget_in in{};
    in.nlookup = n;
    send(RequestBuilder(FUSE_FORGET, node).arg(in));
  }

 private:
  Server& server_;
  Server::Deferred later_;
};

}  // namespace vmrt::fuse::test
