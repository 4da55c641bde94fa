#pragma once
// The snapshot state file: a fixed header, then the state document as CBOR.
//
//   offset  size  field (little-endian)
//        0     8  magic "VMRTSNAP"
//        8     4  format version (kFormatVersion)
//       12     4  header size (32)
//       16     8  payload length
//       24     4  CRC-32 (zlib) of the payload
//       28     4  reserved, zero
//       32     …  payload: nlohmann::json::to_cbor(document)
//
// The header lets a reader refuse a file from another format version, a
// truncated file or a corrupted one with a clear message before it parses
// anything. Everything read is untrusted: every failure is a vmrt::Error.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <vector>

namespace vmrt::vmm::snapshot {

inline constexpr uint32_t kFormatVersion = 1;
inline constexpr size_t kHeaderSize = 32;
// Far above any real state (a few KiB per vCPU and device), low enough that
// a hostile length cannot make the reader allocate much.
inline constexpr size_t kMaxStateFileSize = 16 << 20;
// CBOR nesting deeper than common/json_cbor.h's kMaxCborDepth is refused
// before it can exhaust the stack (the document nests a handful of levels).

// Header and payload of `doc`, as write_state_file writes them.
std::vector<uint8_t> encode_state(const nlohmann::json& doc);
// A correct header followed by `payload`, whatever it holds (for the
// encoder, tests and the fuzzer).
std::vector<uint8_t> seal_payload(std::span<const uint8_t> payload);
void write_state_file(int fd, const nlohmann::json& doc);

// Validates header, lengths and CRC, then parses the CBOR payload.
nlohmann::json read_state_bytes(std::span<const uint8_t> bytes);
// Reads the whole file at `fd` (from offset 0) and validates it as
// read_state_bytes does.
nlohmann::json read_state_file(int fd);

}  // namespace vmrt::vmm::snapshot
