#pragma once
// A minimal rtnetlink client over an AF_NETLINK socket: build a request of
// the uapi structs and attributes, send it, read the kernel's acknowledgment
// or dump. The socket belongs to the network namespace of the thread that
// creates it, and stays there.

#include <linux/netlink.h>

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "common/fd.h"

namespace vmrt {

// One request: nlmsghdr, the family header T (ifinfomsg, ifaddrmsg, rtmsg),
// then attributes, each padded as NLMSG_ALIGN/RTA_ALIGN want.
class NetlinkRequest {
 public:
  template <typename T>
  static NetlinkRequest make(uint16_t type, uint16_t flags, const T& family_header) {
    NetlinkRequest r(type, flags);
    r.append(&family_header, sizeof family_header);
    return r;
  }

  void put(uint16_t attr_type, const void* data, size_t len);
  void put_u32(uint16_t attr_type, uint32_t value) { put(attr_type, &value, sizeof value); }
  void put_string(uint16_t attr_type, const std::string& s) {
    put(attr_type, s.c_str(), s.size() + 1);
  }

  // A nested attribute (tc options, actions): attributes put between
  // begin_nested and end_nested(its result) are its payload.
  size_t begin_nested(uint16_t attr_type);
  void end_nested(size_t at);

  nlmsghdr* header() { return reinterpret_cast<nlmsghdr*>(buf_.data()); }
  std::span<const uint8_t> bytes() const { return buf_; }

 private:
  NetlinkRequest(uint16_t type, uint16_t flags);
  void append(const void* data, size_t len);
  std::vector<uint8_t> buf_;
};

// What the kernel answered: 0 or a positive errno, and the extended ack's
// text when it gave one ("Nexthop has invalid gateway").
struct NetlinkResult {
  int error = 0;
  std::string kernel_message;
  explicit operator bool() const { return error == 0; }
  // "File exists" or "Invalid argument (Nexthop has invalid gateway)".
  std::string text() const;
};

class Netlink {
 public:
  Netlink();  // throws vmrt::Error when the socket cannot be made

  // Sends `r` asking for an acknowledgment and returns the kernel's answer.
  NetlinkResult request(NetlinkRequest& r);
  // Sends a NLM_F_DUMP request and calls `each` with every message of the
  // answer. Throws vmrt::Error if the kernel refuses.
  void dump(NetlinkRequest& r, const std::function<void(const nlmsghdr&)>& each);

 private:
  void send(NetlinkRequest& r);
  // Reads answers to the last request until `done` says so.
  void receive(const std::function<bool(const nlmsghdr&)>& done);

  UniqueFd fd_;
  uint32_t seq_ = 0;
};

// The attributes following a family header of `header_size` in `m`, by type
// (the last one of each type wins; types beyond `max` are ignored).
std::vector<std::span<const uint8_t>> parse_attributes(const nlmsghdr& m, size_t header_size,
                                                       uint16_t max);

}  // namespace vmrt
