#pragma once
// Reading a snapshot's state document, which is untrusted input: each
// accessor checks the JSON type, the integer range or the blob size and
// throws vmrt::Error naming the path of the value ("vcpus[1].regs") and
// what is wrong with it. Kernel structs travel as binary blobs whose size
// must be exactly sizeof(struct).

#include <fmt/format.h>

#include <cstdint>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"

namespace vmrt::vmm::snapshot {

using json = nlohmann::json;

// `obj[key]`, requiring `obj` to be an object that has `key`.
const json& member(const json& obj, const std::string& path, const char* key);
bool has_member(const json& obj, const char* key);
// The path of `key` below `path`, for messages.
inline std::string child(const std::string& path, const char* key) {
  return path.empty() ? key : path + "." + key;
}
// `v` as an array, which may hold at most `max` elements.
const json::array_t& array_at(const json& v, const std::string& path, size_t max);
// `v` as a binary blob.
const json::binary_t& blob_at(const json& v, const std::string& path);
bool bool_at(const json& v, const std::string& path);

template <typename T>
T uint_at(const json& v, const std::string& path) {
  static_assert(std::is_unsigned_v<T>);
  // CBOR gives non-negative integers back unsigned; a document built in
  // memory may hold them signed.
  bool non_negative = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!non_negative)
    fail("snapshot state: {}: expected an unsigned integer, got {}", path,
         v.is_number() ? v.dump() : v.type_name());
  uint64_t x = v.get<uint64_t>();
  if (x > std::numeric_limits<T>::max())
    fail("snapshot state: {}: {} is larger than {}", path, x, std::numeric_limits<T>::max());
  return static_cast<T>(x);
}

template <typename T>
T struct_at(const json& v, const std::string& path) {
  static_assert(std::is_trivially_copyable_v<T>);
  const json::binary_t& b = blob_at(v, path);
  if (b.size() != sizeof(T))
    fail("snapshot state: {}: {} bytes, but the structure is {} bytes", path, b.size(), sizeof(T));
  T out;
  std::memcpy(&out, b.data(), sizeof(T));
  return out;
}

// A blob holding an array of at most `max` structs.
template <typename T>
std::vector<T> structs_at(const json& v, const std::string& path, size_t max) {
  static_assert(std::is_trivially_copyable_v<T>);
  const json::binary_t& b = blob_at(v, path);
  if (b.size() % sizeof(T))
    fail("snapshot state: {}: {} bytes is not a whole number of {}-byte entries", path, b.size(),
         sizeof(T));
  if (b.size() / sizeof(T) > max)
    fail("snapshot state: {}: {} entries, more than the {} allowed", path, b.size() / sizeof(T),
         max);
  std::vector<T> out(b.size() / sizeof(T));
  if (!out.empty()) std::memcpy(out.data(), b.data(), b.size());
  return out;
}

// The same for member `key` of object `obj` at `path`.
template <typename T>
T uint_field(const json& obj, const std::string& path, const char* key) {
  return uint_at<T>(member(obj, path, key), child(path, key));
}
template <typename T>
T struct_field(const json& obj, const std::string& path, const char* key) {
  return struct_at<T>(member(obj, path, key), child(path, key));
}
inline bool bool_field(const json& obj, const std::string& path, const char* key) {
  return bool_at(member(obj, path, key), child(path, key));
}
inline const json::binary_t& blob_field(const json& obj, const std::string& path, const char* key) {
  return blob_at(member(obj, path, key), child(path, key));
}

template <typename T>
json::binary_t to_blob(const T& value) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const uint8_t*>(&value);
  return json::binary_t(std::vector<uint8_t>(p, p + sizeof(T)));
}

template <typename T>
json::binary_t to_blob(std::span<const T> values) {
  static_assert(std::is_trivially_copyable_v<T>);
  const auto* p = reinterpret_cast<const uint8_t*>(values.data());
  return json::binary_t(std::vector<uint8_t>(p, p + values.size_bytes()));
}

}  // namespace vmrt::vmm::snapshot
