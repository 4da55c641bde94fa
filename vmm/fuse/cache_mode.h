#pragma once
// How much the guest kernel may cache, and for how long.
//   none:   nothing: every lookup and getattr asks the server, file data goes
//           straight through (FOPEN_DIRECT_IO). Host-side changes are seen at
//           once.
//   auto:   names and attributes for one second; file data is kept while the
//           file's mtime and size do not change (checked at open and on
//           attribute refresh, FUSE_AUTO_INVAL_DATA). Host-side changes are
//           seen within a second.
//   always: names, attributes and data kept for a day (FOPEN_KEEP_CACHE,
//           FOPEN_CACHE_DIR): fastest, for trees only the guest changes.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vmrt::fuse {

enum class CacheMode { kNone, kAuto, kAlways };

std::optional<CacheMode> parse_cache_mode(std::string_view name);
std::string_view cache_mode_name(CacheMode mode);

// Seconds the kernel may trust a name (entry) and attributes.
uint64_t cache_timeout_seconds(CacheMode mode);

}  // namespace vmrt::fuse
