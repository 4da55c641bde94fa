#pragma once
// The bytes of trivially copyable values one after the other: a request as
// a driver writes it into guest memory (a header, then its arguments).

#include <cstdint>
#include <type_traits>
#include <vector>

namespace vmrt::test {

template <typename... T>
std::vector<uint8_t> bytes_of(const T&... parts) {
  static_assert((std::is_trivially_copyable_v<T> && ...));
  std::vector<uint8_t> out;
  (out.insert(out.end(), reinterpret_cast<const uint8_t*>(&parts),
              reinterpret_cast<const uint8_t*>(&parts) + sizeof parts),
   ...);
  return out;
}

}  // namespace vmrt::test
