#pragma once
// Where the guest console goes (a file, FIFO or the VMM's stdout), buffered:
// the UART hands over one byte per guest port write, and one write(2) per
// byte is slow on pipes and virtual consoles. Output is flushed at each line
// end, when the buffer fills, and by flush() (the VMM loop calls it shortly
// after output stops, so prompts without a newline still appear).

#include <mutex>
#include <span>
#include <string>

#include "common/fd.h"

namespace vmrt::vmm {

class ConsoleOutput {
 public:
  explicit ConsoleOutput(UniqueFd fd) : fd_(std::move(fd)) {}
  ~ConsoleOutput() { flush(); }

  void write(std::span<const uint8_t> bytes);
  void flush();
  bool has_pending() const;

 private:
  void flush_locked();

  UniqueFd fd_;
  mutable std::mutex mu_;
  std::string buf_;
};

}  // namespace vmrt::vmm
