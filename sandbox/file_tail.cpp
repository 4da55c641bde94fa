#include "sandbox/file_tail.h"

#include <algorithm>
#include <fstream>

namespace vmrt::sandbox {

std::string file_tail(const std::filesystem::path& path, std::size_t lines) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - (64 << 10));
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::erase(text, '\r');
  while (!text.empty() && text.back() == '\n') text.pop_back();
  if (lines == 0) return "";
  // Walk back over `lines` newlines; the tail starts after the last one.
  std::size_t begin = text.size();
  for (std::size_t n = 0; n < lines; ++n) {
    std::size_t nl = begin == 0 ? std::string::npos : text.rfind('\n', begin - 1);
    if (nl == std::string::npos) return text;
    begin = nl;
  }
  return text.substr(begin + 1);
}

}  // namespace vmrt::sandbox
