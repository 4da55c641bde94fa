#include "vmm/fuse/cache_mode.h"

namespace vmrt::fuse {

std::optional<CacheMode> parse_cache_mode(std::string_view name) {
  if (name == "none") return CacheMode::kNone;
  if (name == "auto") return CacheMode::kAuto;
  if (name == "always") return CacheMode::kAlways;
  return std::nullopt;
}

std::string_view cache_mode_name(CacheMode mode) {
  switch (mode) {
    case CacheMode::kNone:
      return "none";
    case CacheMode::kAuto:
      return "auto";
    case CacheMode::kAlways:
      return "always";
  }
  return "?";
}

uint64_t cache_timeout_seconds(CacheMode mode) {
  switch (mode) {
    case CacheMode::kNone:
      return 0;
    case CacheMode::kAuto:
      return 1;
    case CacheMode::kAlways:
      return 86400;
  }
  return 0;
}

}  // namespace vmrt::fuse
