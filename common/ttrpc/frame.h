#pragma once
// ttrpc framing: every message is a 10-byte header (big-endian payload
// length, big-endian stream id, type, flags) followed by that many bytes of
// protobuf. Frames are checked before their payload is read, so a peer
// claiming a huge length costs nothing.

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "common/error.h"
#include "common/ttrpc/ttrpc.pb.h"

namespace vmrt::ttrpc {

inline constexpr size_t kHeaderSize = 10;
// The Go implementation's limit, in both directions.
inline constexpr uint32_t kMaxMessageSize = 4u << 20;

// containerd 1.6 speaks ttrpc 1.1: requests and responses only. (Type 3,
// stream data, came with ttrpc 1.2's streaming calls, which we do not serve.)
enum class MessageType : uint8_t { Request = 1, Response = 2 };

struct FrameHeader {
  uint32_t length = 0;
  uint32_t stream_id = 0;
  uint8_t type = 0;
  uint8_t flags = 0;
};

std::array<uint8_t, kHeaderSize> encode_header(const FrameHeader& header);
FrameHeader decode_header(std::span<const uint8_t, kHeaderSize> bytes);

// A frame this end refuses; the connection cannot continue after it (an
// unread payload or a foreign message type leaves the stream unusable).
class FrameError : public Error {
 public:
  enum class Kind { Oversize, UnexpectedType, Truncated };
  FrameError(Kind kind, const FrameHeader& header, const std::string& what)
      : Error(what), kind_(kind), header_(header) {}
  Kind kind() const noexcept { return kind_; }
  // What was decoded of the header (zeros when even it was cut short).
  const FrameHeader& header() const noexcept { return header_; }

 private:
  Kind kind_;
  FrameHeader header_;
};

// Throws FrameError when `header` announces more than kMaxMessageSize bytes
// or a type other than `expected`.
void check_header(const FrameHeader& header, MessageType expected);

struct Frame {
  FrameHeader header;
  std::string payload;
};

// Reads one frame of type `expected` from a blocking fd. nullopt when the
// stream ends cleanly between frames; FrameError for a refused header
// (checked before anything of the payload is read or allocated) or a frame
// cut short; vmrt::Error when read fails.
std::optional<Frame> read_frame(int fd, MessageType expected);

// Header and payload in one buffer, so that a single write under the
// connection's write lock puts the whole frame on the socket. Throws
// FrameError(Oversize) for a payload over kMaxMessageSize.
std::string encode_frame(uint32_t stream_id, MessageType type, std::string_view payload);

// Protobuf decoding of frame payloads; throws vmrt::Error naming the message
// type when the bytes are not a valid encoding.
wire::Request parse_request(std::string_view payload);
wire::Response parse_response(std::string_view payload);

}  // namespace vmrt::ttrpc
