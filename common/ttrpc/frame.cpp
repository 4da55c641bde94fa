#include "common/ttrpc/frame.h"

#include <unistd.h>

#include <cerrno>

namespace vmrt::ttrpc {

namespace {

uint32_t load_be32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | uint32_t{p[3]};
}

void store_be32(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 24);
  p[1] = static_cast<uint8_t>(v >> 16);
  p[2] = static_cast<uint8_t>(v >> 8);
  p[3] = static_cast<uint8_t>(v);
}

// Reads until `len` bytes or end of stream; returns how many arrived.
// (read_exact cannot tell a cut-short frame from a failed read, and the
// two are handled differently.)
size_t read_up_to(int fd, void* buf, size_t len) {
  auto* p = static_cast<uint8_t*>(buf);
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::read(fd, p + got, len - got);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      throw_errno(fmt::format("read ttrpc frame from fd {}", fd));
    }
    got += static_cast<size_t>(n);
  }
  return got;
}

}  // namespace

std::array<uint8_t, kHeaderSize> encode_header(const FrameHeader& header) {
  std::array<uint8_t, kHeaderSize> bytes{};
  store_be32(bytes.data(), header.length);
  store_be32(bytes.data() + 4, header.stream_id);
  bytes[8] = header.type;
  bytes[9] = header.flags;
  return bytes;
}

FrameHeader decode_header(std::span<const uint8_t, kHeaderSize> bytes) {
  return FrameHeader{
      .length = load_be32(bytes.data()),
      .stream_id = load_be32(bytes.data() + 4),
      .type = bytes[8],
      .flags = bytes[9],
  };
}

void check_header(const FrameHeader& header, MessageType expected) {
  if (header.length > kMaxMessageSize)
    throw FrameError(FrameError::Kind::Oversize, header,
                     fmt::format("ttrpc message length {} exceeds the maximum message size of {}",
                                 header.length, kMaxMessageSize));
  if (header.type != static_cast<uint8_t>(expected))
    throw FrameError(FrameError::Kind::UnexpectedType, header,
                     fmt::format("ttrpc message of type {} on stream {} where type {} was expected",
                                 header.type, header.stream_id, static_cast<int>(expected)));
}

std::optional<Frame> read_frame(int fd, MessageType expected) {
  std::array<uint8_t, kHeaderSize> bytes{};
  size_t got = read_up_to(fd, bytes.data(), bytes.size());
  if (got == 0) return std::nullopt;
  if (got < bytes.size())
    throw FrameError(
        FrameError::Kind::Truncated, {},
        fmt::format("ttrpc stream ended inside a frame header ({} of {} bytes)", got, kHeaderSize));
  Frame frame{.header = decode_header(bytes)};
  check_header(frame.header, expected);
  frame.payload.resize(frame.header.length);
  got = read_up_to(fd, frame.payload.data(), frame.payload.size());
  if (got < frame.payload.size())
    throw FrameError(
        FrameError::Kind::Truncated, frame.header,
        fmt::format("ttrpc stream ended inside the payload of stream {} ({} of {} bytes)",
                    frame.header.stream_id, got, frame.header.length));
  return frame;
}

std::string encode_frame(uint32_t stream_id, MessageType type, std::string_view payload) {
  FrameHeader header{.length = static_cast<uint32_t>(payload.size()),
                     .stream_id = stream_id,
                     .type = static_cast<uint8_t>(type)};
  if (payload.size() > kMaxMessageSize) {
    header.length = payload.size() > UINT32_MAX ? UINT32_MAX : header.length;
    throw FrameError(FrameError::Kind::Oversize, header,
                     fmt::format("ttrpc message of {} bytes exceeds the maximum message size of {}",
                                 payload.size(), kMaxMessageSize));
  }
  auto bytes = encode_header(header);
  std::string frame;
  frame.reserve(kHeaderSize + payload.size());
  frame.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  frame.append(payload);
  return frame;
}

wire::Request parse_request(std::string_view payload) {
  wire::Request request;
  if (!request.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
    fail("malformed ttrpc Request ({} bytes)", payload.size());
  return request;
}

wire::Response parse_response(std::string_view payload) {
  wire::Response response;
  if (!response.ParseFromArray(payload.data(), static_cast<int>(payload.size())))
    fail("malformed ttrpc Response ({} bytes)", payload.size());
  return response;
}

}  // namespace vmrt::ttrpc
