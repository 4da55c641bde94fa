#pragma once
// Where the guest console goes (a file, FIFO or the VMM's stdout), buffered:
// the UART hands over one byte per guest port write, and one write(2) per
// byte is slow on pipes and virtual consoles. Output is flushed at each line
// end, when the buffer fills, and by flush() (the VMM loop calls it shortly
// after output stops, so prompts without a newline still appear).
//
// A guest can print without end, so output to a file is capped: at `limit`
// bytes the output stops with one marker line, and the rest is dropped
// (console.log holds the boot and the first of what followed, which is what
// a failure is diagnosed from). The file never grows past `limit`.

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>

#include "common/fd.h"

namespace vmrt::vmm {

class ConsoleOutput {
 public:
  static constexpr uint64_t kUnlimited = UINT64_MAX;
  // The cap vmrt-vmm puts on a console that is a regular file.
  static constexpr uint64_t kFileLimit = 16ull << 20;
  static constexpr std::string_view kCutMarker = "\n[vmrt: console output cut here: size limit]\n";

  // `limit` counts from the descriptor's start (a file the VMM created).
  explicit ConsoleOutput(UniqueFd fd, uint64_t limit = kUnlimited);
  ~ConsoleOutput() { flush(); }

  void write(std::span<const uint8_t> bytes);
  void flush();
  bool has_pending() const;

 private:
  void flush_locked();

  void write_out(std::string_view bytes);

  UniqueFd fd_;
  const uint64_t limit_;
  mutable std::mutex mu_;
  std::string buf_;
  uint64_t written_ = 0;
  bool cut_ = false;  // the limit was reached: everything is dropped
};

}  // namespace vmrt::vmm
