#include "vmm/snapshot/state_file.h"

#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <cstring>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/json_cbor.h"

namespace vmrt::vmm::snapshot {

namespace {

static_assert(std::endian::native == std::endian::little,
              "the header is stored little-endian by copying host integers");

constexpr char kMagic[8] = {'V', 'M', 'R', 'T', 'S', 'N', 'A', 'P'};

struct Header {
  char magic[8];
  uint32_t version;
  uint32_t header_size;
  uint64_t payload_len;
  uint32_t crc;
  uint32_t reserved;
};
static_assert(sizeof(Header) == kHeaderSize);

uint32_t crc_of(std::span<const uint8_t> data) {
  return static_cast<uint32_t>(crc32_z(0, data.data(), data.size()));
}

using json = nlohmann::json;

// common/json_cbor.h bounds the nesting before nlohmann's recursive reader
// sees it, so a crafted file cannot overflow the stack.
json parse_payload(std::span<const uint8_t> payload) {
  json doc = parse_cbor(payload, "snapshot state: the payload");
  if (!doc.is_object())
    fail("snapshot state: the document is a {}, not an object", doc.type_name());
  return doc;
}

}  // namespace

std::vector<uint8_t> seal_payload(std::span<const uint8_t> payload) {
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.version = kFormatVersion;
  h.header_size = kHeaderSize;
  h.payload_len = payload.size();
  h.crc = crc_of(payload);
  std::vector<uint8_t> out(sizeof h + payload.size());
  std::memcpy(out.data(), &h, sizeof h);
  if (!payload.empty()) std::memcpy(out.data() + sizeof h, payload.data(), payload.size());
  return out;
}

std::vector<uint8_t> encode_state(const json& doc) { return seal_payload(json::to_cbor(doc)); }

void write_state_file(int fd, const json& doc) {
  std::vector<uint8_t> bytes = encode_state(doc);
  if (bytes.size() > kMaxStateFileSize)
    fail("snapshot state of {} bytes exceeds the {} bytes a reader accepts", bytes.size(),
         kMaxStateFileSize);
  write_all(fd, bytes.data(), bytes.size());
}

json read_state_bytes(std::span<const uint8_t> bytes) {
  if (bytes.size() < sizeof kMagic || std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0)
    fail("snapshot state: not a vmrt snapshot (no VMRTSNAP magic)");
  if (bytes.size() < kHeaderSize)
    fail("snapshot state: {} bytes is too short for the {}-byte header", bytes.size(), kHeaderSize);
  Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  if (h.version != kFormatVersion)
    fail("snapshot state: format version {} is not the supported version {}", h.version,
         kFormatVersion);
  if (h.header_size != kHeaderSize)
    fail("snapshot state: header size {} is not {}", h.header_size, kHeaderSize);
  if (bytes.size() > kMaxStateFileSize)
    fail("snapshot state: {} bytes exceeds the limit of {}", bytes.size(), kMaxStateFileSize);
  uint64_t have = bytes.size() - kHeaderSize;
  if (h.payload_len != have)
    fail(
        "snapshot state: the header announces a payload of {} bytes but {} follow (truncated "
        "or extended file)",
        h.payload_len, have);
  std::span<const uint8_t> payload = bytes.subspan(kHeaderSize);
  uint32_t crc = crc_of(payload);
  if (crc != h.crc)
    fail("snapshot state: payload CRC {:#010x} does not match the header's {:#010x} (corrupted)",
         crc, h.crc);
  return parse_payload(payload);
}

json read_state_file(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) throw_errno("snapshot state: fstat");
  if (!S_ISREG(st.st_mode)) fail("snapshot state: not a regular file");
  if (static_cast<uint64_t>(st.st_size) > kMaxStateFileSize)
    fail("snapshot state: {} bytes exceeds the limit of {}", st.st_size, kMaxStateFileSize);
  std::vector<uint8_t> bytes(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = pread(fd, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("snapshot state: read");
    if (n == 0) fail("snapshot state: the file shrank while being read");
    done += static_cast<size_t>(n);
  }
  return read_state_bytes(bytes);
}

}  // namespace vmrt::vmm::snapshot
