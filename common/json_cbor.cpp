#include "common/json_cbor.h"

#include <limits>
#include <vector>

#include "common/error.h"

namespace vmrt {

namespace {
// Items left in an open container; "until the break byte" for indefinite
// ones.
constexpr uint64_t kUntilBreak = std::numeric_limits<uint64_t>::max();
}  // namespace

size_t cbor_depth(std::span<const uint8_t> bytes, size_t limit) {
  std::vector<uint64_t> open;  // items left in each open container
  size_t deepest = 0;
  size_t at = 0;
  while (at < bytes.size()) {
    uint8_t initial = bytes[at++];
    unsigned major = initial >> 5, info = initial & 31;
    bool item_done = true;
    if (initial == 0xff) {  // break: ends the innermost indefinite container
      if (open.empty() || open.back() != kUntilBreak) return deepest;
      open.pop_back();
    } else {
      uint64_t value = info;
      if (info >= 24 && info <= 27) {
        size_t n = size_t{1} << (info - 24);
        if (bytes.size() - at < n) return deepest;
        value = 0;
        for (size_t i = 0; i < n; ++i) value = value << 8 | bytes[at++];
      } else if (info >= 28 && info < 31) {
        return deepest;  // reserved
      }
      bool indefinite = info == 31;
      if (major == 2 || major == 3) {
        if (indefinite) {
          open.push_back(kUntilBreak);
          item_done = false;
        } else {
          if (bytes.size() - at < value) return deepest;
          at += value;
        }
      } else if (major == 4 || major == 5 || major == 6) {
        uint64_t items = indefinite   ? kUntilBreak
                         : major == 6 ? 1
                         : major == 5 ? (value > kUntilBreak / 2 - 1 ? kUntilBreak - 1 : 2 * value)
                                      : value;
        if (items != 0) {
          open.push_back(items);
          item_done = false;
        }
      }
    }
    deepest = std::max(deepest, open.size());
    if (deepest > limit) return deepest;
    if (!item_done) continue;
    // A complete item: it fills one slot of each container it completes.
    while (!open.empty() && open.back() != kUntilBreak) {
      if (--open.back() != 0) break;
      open.pop_back();
    }
  }
  return deepest;
}

nlohmann::json parse_cbor(std::span<const uint8_t> bytes, const std::string& source) {
  if (size_t depth = cbor_depth(bytes, kMaxCborDepth); depth > kMaxCborDepth)
    fail("{}: malformed CBOR: nested deeper than {} levels", source, kMaxCborDepth);
  try {
    return nlohmann::json::from_cbor(bytes.begin(), bytes.end());
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();
    size_t id_end = what.find("] ");
    fail("{}: malformed CBOR: {}", source,
         id_end == std::string::npos ? what : what.substr(id_end + 2));
  }
}

}  // namespace vmrt
