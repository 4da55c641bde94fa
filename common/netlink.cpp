#include "common/netlink.h"

#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include <cstring>

#include "common/error.h"

namespace vmrt {
namespace {

// Large enough for any one rtnetlink message of a link dump (the kernel
// sizes its dump skbs by the reader's buffer, up to 32 KiB by default).
constexpr size_t kReceiveBuffer = 64 * 1024;

}  // namespace

NetlinkRequest::NetlinkRequest(uint16_t type, uint16_t flags) {
  nlmsghdr h{};
  h.nlmsg_len = NLMSG_HDRLEN;
  h.nlmsg_type = type;
  h.nlmsg_flags = flags | NLM_F_REQUEST;
  buf_.resize(NLMSG_HDRLEN);
  std::memcpy(buf_.data(), &h, sizeof h);
}

void NetlinkRequest::append(const void* data, size_t len) {
  size_t at = buf_.size();
  buf_.resize(at + NLMSG_ALIGN(len));
  std::memcpy(buf_.data() + at, data, len);
  header()->nlmsg_len = static_cast<uint32_t>(buf_.size());
}

void NetlinkRequest::put(uint16_t attr_type, const void* data, size_t len) {
  rtattr a{};
  a.rta_len = static_cast<uint16_t>(RTA_LENGTH(len));
  a.rta_type = attr_type;
  size_t at = buf_.size();
  buf_.resize(at + RTA_SPACE(len));
  std::memcpy(buf_.data() + at, &a, sizeof a);
  if (len) std::memcpy(buf_.data() + at + RTA_LENGTH(0), data, len);
  header()->nlmsg_len = static_cast<uint32_t>(buf_.size());
}

size_t NetlinkRequest::begin_nested(uint16_t attr_type) {
  size_t at = buf_.size();
  put(attr_type | NLA_F_NESTED, nullptr, 0);
  return at;
}

void NetlinkRequest::end_nested(size_t at) {
  auto* a = reinterpret_cast<rtattr*>(buf_.data() + at);
  a->rta_len = static_cast<uint16_t>(buf_.size() - at);
}

std::string NetlinkResult::text() const {
  std::string s = std::strerror(error);
  if (!kernel_message.empty()) s += " (" + kernel_message + ")";
  return s;
}

Netlink::Netlink()
    : fd_(check_sys(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
                    "socket(AF_NETLINK, NETLINK_ROUTE)")) {
  sockaddr_nl addr{};
  addr.nl_family = AF_NETLINK;
  check_sys(::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), "bind netlink");
  // The kernel's own words for a refusal, without the request echoed back.
  int on = 1;
  ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
  ::setsockopt(fd_.get(), SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
}

void Netlink::send(NetlinkRequest& r) {
  r.header()->nlmsg_seq = ++seq_;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  auto bytes = r.bytes();
  ssize_t n = ::sendto(fd_.get(), bytes.data(), bytes.size(), 0,
                       reinterpret_cast<sockaddr*>(&kernel), sizeof kernel);
  if (n < 0) throw_errno("netlink send");
  if (static_cast<size_t>(n) != bytes.size()) fail("netlink send: short write");
}

void Netlink::receive(const std::function<bool(const nlmsghdr&)>& done) {
  std::vector<uint8_t> buf(kReceiveBuffer);
  for (;;) {
    ssize_t n = ::recv(fd_.get(), buf.data(), buf.size(), MSG_TRUNC);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("netlink receive");
    if (static_cast<size_t>(n) > buf.size()) fail("netlink receive: message truncated");
    size_t left = static_cast<size_t>(n);
    for (auto* m = reinterpret_cast<const nlmsghdr*>(buf.data()); NLMSG_OK(m, left);
         m = NLMSG_NEXT(m, left)) {
      // Answers to an earlier request (none are left unread) or notifications.
      if (m->nlmsg_seq != seq_) continue;
      if (done(*m)) return;
    }
  }
}

NetlinkResult Netlink::request(NetlinkRequest& r) {
  r.header()->nlmsg_flags |= NLM_F_ACK;
  send(r);
  NetlinkResult result;
  receive([&](const nlmsghdr& m) {
    if (m.nlmsg_type != NLMSG_ERROR) return false;
    if (m.nlmsg_len < NLMSG_LENGTH(sizeof(nlmsgerr))) fail("netlink: short error message");
    const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(&m));
    result.error = -err->error;
    if (!(m.nlmsg_flags & NLM_F_ACK_TLVS)) return true;
    // The extended ack's attributes follow the error, after the echoed
    // request unless the kernel capped it.
    size_t offset = sizeof(nlmsgerr);
    if (!(m.nlmsg_flags & NLM_F_CAPPED)) offset += err->msg.nlmsg_len - NLMSG_HDRLEN;
    auto attrs = parse_attributes(m, offset, NLMSGERR_ATTR_MSG);
    const auto& msg = attrs[NLMSGERR_ATTR_MSG];
    if (!msg.empty())
      result.kernel_message.assign(reinterpret_cast<const char*>(msg.data()),
                                   strnlen(reinterpret_cast<const char*>(msg.data()), msg.size()));
    return true;
  });
  return result;
}

void Netlink::dump(NetlinkRequest& r, const std::function<void(const nlmsghdr&)>& each) {
  r.header()->nlmsg_flags |= NLM_F_DUMP;
  send(r);
  receive([&](const nlmsghdr& m) {
    if (m.nlmsg_type == NLMSG_DONE) return true;
    if (m.nlmsg_type == NLMSG_ERROR) {
      const auto* err = static_cast<const nlmsgerr*>(NLMSG_DATA(&m));
      if (err->error == 0) return true;
      throw_errno("netlink dump", -err->error);
    }
    each(m);
    return false;
  });
}

std::vector<std::span<const uint8_t>> parse_attributes(const nlmsghdr& m, size_t header_size,
                                                       uint16_t max) {
  std::vector<std::span<const uint8_t>> attrs(max + 1);
  size_t start = NLMSG_HDRLEN + NLMSG_ALIGN(header_size);
  if (m.nlmsg_len < start) return attrs;
  int left = static_cast<int>(m.nlmsg_len - start);
  const auto* a = reinterpret_cast<const rtattr*>(reinterpret_cast<const uint8_t*>(&m) + start);
  for (; RTA_OK(a, left); a = RTA_NEXT(a, left)) {
    uint16_t type = a->rta_type & NLA_TYPE_MASK;
    if (type <= max) attrs[type] = {static_cast<const uint8_t*>(RTA_DATA(a)), RTA_PAYLOAD(a)};
  }
  return attrs;
}

}  // namespace vmrt
