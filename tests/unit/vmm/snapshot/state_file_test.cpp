#include "vmm/snapshot/state_file.h"

#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>

#include "common/error.h"
#include "common/fd.h"
#include "common/json_cbor.h"

namespace vmrt::vmm::snapshot {
namespace {

using json = nlohmann::json;

json sample() {
  return {{"vcpus", json::array({{{"regs", json::binary({1, 2, 3, 4})}}})},
          {"memory", {{"size", uint64_t{2} << 20}}},
          {"name", "template"}};
}

// The error message of read_state_bytes(bytes), or "" when it succeeds.
std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    read_state_bytes(bytes);
    return "";
  } catch (const Error& e) {
    return e.what();
  }
}

TEST(StateFile, RoundTripsThroughAFile) {
  UniqueFd fd(memfd_create("state", MFD_CLOEXEC));
  ASSERT_TRUE(fd);
  write_state_file(fd.get(), sample());
  json back = read_state_file(fd.get());
  EXPECT_EQ(back, sample());
  EXPECT_EQ(back["vcpus"][0]["regs"].get_binary(), json::binary_t({1, 2, 3, 4}));
}

TEST(StateFile, RefusesBadMagic) {
  std::vector<uint8_t> bytes = encode_state(sample());
  bytes[0] = 'X';
  EXPECT_NE(error_of(bytes).find("no VMRTSNAP magic"), std::string::npos) << error_of(bytes);
  EXPECT_NE(error_of({}).find("magic"), std::string::npos);
}

TEST(StateFile, RefusesAnotherVersionNamingBoth) {
  std::vector<uint8_t> bytes = encode_state(sample());
  bytes[8] = 7;  // version, little-endian
  std::string e = error_of(bytes);
  EXPECT_NE(e.find("format version 7"), std::string::npos) << e;
  EXPECT_NE(e.find("supported version " + std::to_string(kFormatVersion)), std::string::npos) << e;
}

TEST(StateFile, RefusesTruncatedAndExtendedFiles) {
  std::vector<uint8_t> bytes = encode_state(sample());
  std::vector<uint8_t> cut(bytes.begin(), bytes.end() - 1);
  EXPECT_NE(error_of(cut).find("truncated"), std::string::npos) << error_of(cut);
  std::vector<uint8_t> header_only(bytes.begin(), bytes.begin() + 20);
  EXPECT_NE(error_of(header_only).find("too short"), std::string::npos) << error_of(header_only);
  bytes.push_back(0);
  EXPECT_NE(error_of(bytes).find("truncated or extended"), std::string::npos);
}

TEST(StateFile, AFlippedPayloadByteIsACrcError) {
  std::vector<uint8_t> bytes = encode_state(sample());
  bytes[kHeaderSize + 5] ^= 0x40;
  EXPECT_NE(error_of(bytes).find("CRC"), std::string::npos) << error_of(bytes);
}

TEST(StateFile, RefusesAPayloadThatIsNotACborObject) {
  EXPECT_NE(error_of(encode_state(json::array({1, 2}))).find("not an object"), std::string::npos);
  // A correct header around a cut CBOR document: only the parse objects.
  std::vector<uint8_t> cbor = json::to_cbor(sample());
  cbor.resize(cbor.size() - 3);
  std::string e = error_of(seal_payload(cbor));
  EXPECT_NE(e.find("malformed CBOR"), std::string::npos) << e;
}

TEST(StateFile, RefusesDeepNesting) {
  json deep = json::array();
  for (size_t i = 0; i < kMaxCborDepth + 5; ++i) deep = json::array({deep});
  std::string e = error_of(encode_state({{"x", deep}}));
  EXPECT_NE(e.find("nested deeper"), std::string::npos) << e;
}

}  // namespace
}  // namespace vmrt::vmm::snapshot
