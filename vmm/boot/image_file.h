#pragma once
// Reads a kernel or initrd file whole, with errors that name the file.

#include <cstdint>
#include <string>
#include <vector>

namespace vmrt::vmm::boot {

// Throws vmrt::Error for a missing, unreadable, empty or larger-than-`max`
// file.
std::vector<uint8_t> read_image_file(const std::string& what, const std::string& path,
                                     uint64_t max);

}  // namespace vmrt::vmm::boot
