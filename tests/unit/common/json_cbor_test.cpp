// CBOR from someone else: decoded when well formed, refused as vmrt::Error
// when malformed, too deeply nested (before nlohmann's recursive decoder
// sees it) or claiming absurd sizes.
#include "common/json_cbor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/error.h"

namespace vmrt {
namespace {

using ::testing::HasSubstr;

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    parse_cbor(bytes, "state");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonCbor, DecodesWhatNlohmannEncodes) {
  nlohmann::json j = {
      {"a", {1, 2, {{"b", nullptr}}}}, {"s", "x"}, {"bin", nlohmann::json::binary({1, 2})}};
  std::vector<uint8_t> bytes = nlohmann::json::to_cbor(j);
  EXPECT_EQ(parse_cbor(bytes, "state"), j);
  EXPECT_EQ(cbor_depth(bytes, 64), 3u);  // map, array, map
}

TEST(JsonCbor, RefusesDeepNestingBeforeDecoding) {
  // A million one-element arrays would overflow the decoder's stack.
  std::vector<uint8_t> deep(1 << 20, 0x81);
  deep.push_back(0x00);
  EXPECT_THAT(error_of(deep), HasSubstr("state: malformed CBOR: nested deeper than 64 levels"));
  EXPECT_EQ(cbor_depth(deep, 10), 11u);
  // Indefinite arrays and tags nest too; 64 levels are fine.
  std::vector<uint8_t> indefinite(100, 0x9f);
  EXPECT_THAT(error_of(indefinite), HasSubstr("nested deeper"));
  std::vector<uint8_t> tags(100, 0xc6);
  EXPECT_THAT(error_of(tags), HasSubstr("nested deeper"));
  std::vector<uint8_t> ok(64, 0x81);
  ok.push_back(0x01);
  EXPECT_EQ(error_of(ok), "");
}

TEST(JsonCbor, CountsClosedContainersOut) {
  // [[1], [2], [3]] ... siblings do not add up.
  std::vector<uint8_t> siblings{0x83, 0x81, 0x01, 0x81, 0x02, 0x9f, 0x03, 0xff};
  EXPECT_EQ(cbor_depth(siblings, 64), 2u);
  EXPECT_EQ(parse_cbor(siblings, "s"), nlohmann::json::parse("[[1],[2],[3]]"));
}

TEST(JsonCbor, RefusesMalformedAndAbsurdInput) {
  EXPECT_THAT(error_of({0x82, 0x01}), HasSubstr("state: malformed CBOR: "));  // truncated
  EXPECT_THAT(error_of({0x1c}), HasSubstr("malformed CBOR"));                 // reserved
  // An object claiming 2^63 members: out_of_range inside nlohmann.
  EXPECT_THAT(error_of({0xbb, 0x96, 0x96, 0x96, 0x96, 0x96, 0x96, 0x96, 0x96}),
              HasSubstr("malformed CBOR"));
  EXPECT_THAT(error_of({}), HasSubstr("malformed CBOR"));
}

}  // namespace
}  // namespace vmrt
