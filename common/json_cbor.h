#pragma once
// CBOR -> nlohmann::json for state someone else wrote (a snapshot file's
// documents), refusing malformed input as vmrt::Error "<source>: malformed
// CBOR: <why>". nlohmann's CBOR decoder recurses once per nesting level, so
// a few kilobytes of nested arrays overflow the stack; the nesting is
// measured first, without recursion, and refused past kMaxCborDepth. And
// from_cbor throws out_of_range (an object claiming 2^63 members) even when
// told not to throw: every nlohmann exception becomes vmrt::Error.

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

namespace vmrt {

inline constexpr size_t kMaxCborDepth = 64;

nlohmann::json parse_cbor(std::span<const uint8_t> bytes, const std::string& source);

// How deeply the arrays, maps, tags and chunked strings of the CBOR items in
// `bytes` nest, counted up to `limit` + 1 (the walk stops there). Truncated
// or malformed input counts as far as it goes: the decoder refuses it.
size_t cbor_depth(std::span<const uint8_t> bytes, size_t limit);

}  // namespace vmrt
