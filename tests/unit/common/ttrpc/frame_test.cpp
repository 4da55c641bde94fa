#include "common/ttrpc/frame.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <thread>

#include "common/fd.h"
#include "common/fd_io.h"
#include "tests/unit/common/ttrpc/socket_pair.h"

namespace vmrt::ttrpc {
namespace {

using Pair = test::SocketPair;
using test::socket_pair;

std::string header_bytes(uint32_t length, uint32_t stream_id, uint8_t type, uint8_t flags = 0) {
  auto h = encode_header({.length = length, .stream_id = stream_id, .type = type, .flags = flags});
  return std::string(reinterpret_cast<const char*>(h.data()), h.size());
}

TEST(TtrpcFrame, HeaderIsBigEndianLengthStreamTypeFlags) {
  auto bytes =
      encode_header({.length = 0x01020304, .stream_id = 0x0a0b0c0d, .type = 2, .flags = 7});
  std::array<uint8_t, kHeaderSize> want = {1, 2, 3, 4, 0x0a, 0x0b, 0x0c, 0x0d, 2, 7};
  EXPECT_EQ(bytes, want);
  FrameHeader back = decode_header(bytes);
  EXPECT_EQ(back.length, 0x01020304u);
  EXPECT_EQ(back.stream_id, 0x0a0b0c0du);
  EXPECT_EQ(back.type, 2);
  EXPECT_EQ(back.flags, 7);
}

TEST(TtrpcFrame, RoundTripThroughASocket) {
  Pair p = socket_pair();
  write_all(p.a.get(), encode_frame(5, MessageType::Request, "hello"));
  write_all(p.a.get(), encode_frame(7, MessageType::Request, ""));
  p.a.reset();
  auto first = read_frame(p.b.get(), MessageType::Request);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->header.stream_id, 5u);
  EXPECT_EQ(first->header.length, 5u);
  EXPECT_EQ(first->payload, "hello");
  auto second = read_frame(p.b.get(), MessageType::Request);
  ASSERT_TRUE(second);
  EXPECT_EQ(second->header.stream_id, 7u);
  EXPECT_EQ(second->payload, "");
  // The stream ending between frames is a clean end, not an error.
  EXPECT_FALSE(read_frame(p.b.get(), MessageType::Request));
}

TEST(TtrpcFrame, MaximumSizeIsAccepted) {
  Pair p = socket_pair();
  std::string payload(kMaxMessageSize, 'x');
  std::thread writer(
      [&] { write_all(p.a.get(), encode_frame(1, MessageType::Response, payload)); });
  auto frame = read_frame(p.b.get(), MessageType::Response);
  writer.join();
  ASSERT_TRUE(frame);
  EXPECT_EQ(frame->payload.size(), kMaxMessageSize);
}

TEST(TtrpcFrame, OversizeIsRefusedBeforeReadingThePayload) {
  for (uint32_t length : {kMaxMessageSize + 1, 0xffffffffu}) {
    Pair p = socket_pair();
    // Only the header is sent and the writer stays open: reading (or waiting
    // for) the claimed payload would hang here instead of failing.
    write_all(p.a.get(), header_bytes(length, 3, 1));
    try {
      read_frame(p.b.get(), MessageType::Request);
      FAIL() << "length " << length << " accepted";
    } catch (const FrameError& e) {
      EXPECT_EQ(e.kind(), FrameError::Kind::Oversize);
      EXPECT_EQ(e.header().stream_id, 3u);
      EXPECT_NE(std::string(e.what()).find(std::to_string(length)), std::string::npos) << e.what();
    }
  }
}

TEST(TtrpcFrame, UnexpectedTypesAreRefused) {
  // 0 and 3.. are unknown; 2 is a response where a request belongs and 1 the
  // reverse; 3 is ttrpc 1.2's stream data, which containerd 1.6 never sends.
  struct Case {
    uint8_t type;
    MessageType expected;
  };
  for (Case c : {Case{0, MessageType::Request}, Case{2, MessageType::Request},
                 Case{3, MessageType::Request}, Case{255, MessageType::Request},
                 Case{1, MessageType::Response}, Case{3, MessageType::Response}}) {
    Pair p = socket_pair();
    write_all(p.a.get(), header_bytes(4, 9, c.type));
    try {
      read_frame(p.b.get(), c.expected);
      FAIL() << "type " << int(c.type) << " accepted";
    } catch (const FrameError& e) {
      EXPECT_EQ(e.kind(), FrameError::Kind::UnexpectedType) << e.what();
      EXPECT_EQ(e.header().type, c.type);
    }
  }
}

TEST(TtrpcFrame, TruncatedHeaderOrPayloadIsAnError) {
  for (size_t cut : {1, 5, 9}) {
    Pair p = socket_pair();
    write_all(p.a.get(), header_bytes(3, 1, 1).substr(0, cut));
    p.a.reset();
    try {
      read_frame(p.b.get(), MessageType::Request);
      FAIL() << "header cut at " << cut << " accepted";
    } catch (const FrameError& e) {
      EXPECT_EQ(e.kind(), FrameError::Kind::Truncated) << e.what();
    }
  }
  Pair p = socket_pair();
  write_all(p.a.get(), header_bytes(10, 1, 1) + "short");
  p.a.reset();
  try {
    read_frame(p.b.get(), MessageType::Request);
    FAIL() << "short payload accepted";
  } catch (const FrameError& e) {
    EXPECT_EQ(e.kind(), FrameError::Kind::Truncated);
    EXPECT_NE(std::string(e.what()).find("5 of 10"), std::string::npos) << e.what();
  }
}

TEST(TtrpcFrame, EncodingRefusesOversizePayloads) {
  std::string payload(kMaxMessageSize + 1, 'x');
  EXPECT_THROW(encode_frame(1, MessageType::Request, payload), FrameError);
}

TEST(TtrpcFrame, RequestAndResponseParse) {
  wire::Request request;
  request.set_service("containerd.task.v2.Task");
  request.set_method("Create");
  request.set_payload(std::string("\0\1\2", 3));
  request.set_timeout_nano(-5);
  auto* kv = request.add_metadata();
  kv->set_key("k");
  kv->set_value("v");
  wire::Request back = parse_request(request.SerializeAsString());
  EXPECT_EQ(back.service(), "containerd.task.v2.Task");
  EXPECT_EQ(back.method(), "Create");
  EXPECT_EQ(back.payload(), std::string("\0\1\2", 3));
  EXPECT_EQ(back.timeout_nano(), -5);
  ASSERT_EQ(back.metadata_size(), 1);
  EXPECT_EQ(back.metadata(0).value(), "v");

  // Hand-encoded as Go's google.rpc.Status would be: field 1 varint 5,
  // field 2 "gone"; then the Response payload, field 2 "p".
  std::string status = std::string("\x08\x05\x12\x04gone", 8);
  std::string response = std::string("\x0a") + char(status.size()) + status + "\x12\x01p";
  wire::Response r = parse_response(response);
  EXPECT_EQ(r.status().code(), 5);
  EXPECT_EQ(r.status().message(), "gone");
  EXPECT_EQ(r.payload(), "p");
}

TEST(TtrpcFrame, TextThatIsNotUtf8StillParses) {
  // Go peers send error messages and names byte for byte.
  std::string status = std::string("\x08\x02\x12\x02\xff\xfe", 6);
  wire::Response r = parse_response(std::string("\x0a") + char(status.size()) + status);
  EXPECT_EQ(r.status().message(), "\xff\xfe");
  wire::Request q = parse_request(std::string("\x0a\x01\xc3", 3));
  EXPECT_EQ(q.service(), "\xc3");
}

TEST(TtrpcFrame, MalformedProtobufIsAnError) {
  // A length-delimited field running past the end, and an invalid wire type.
  EXPECT_THROW(parse_request(std::string("\x0a\x10"
                                         "abc",
                                         5)),
               Error);
  EXPECT_THROW(parse_request(std::string("\x0f", 1)), Error);
  EXPECT_THROW(parse_response(std::string("\x0a\x05\x08", 3)), Error);
}

}  // namespace
}  // namespace vmrt::ttrpc
