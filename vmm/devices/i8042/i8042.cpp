#include "vmm/devices/i8042/i8042.h"

#include <algorithm>

namespace vmrt::vmm {

namespace {
// The output buffer never holds more than the answer to one command; a guest
// issuing commands without reading answers loses the oldest.
constexpr size_t kMaxOutput = 16;
}  // namespace

void I8042::read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mu_);
  uint8_t value;
  if (offset == kCommandPort - kDataPort) {
    value = kStatusUnlocked | status_cmd_ | ((ctr_ & kCtrSystemFlag) ? kStatusSystemFlag : 0) |
            (output_.empty() ? 0 : kStatusOutputFull);
  } else if (offset == 0 && !output_.empty()) {
    value = output_.front();
    output_.pop_front();
  } else {
    value = 0;
  }
  std::fill(data.begin(), data.end(), value);
}

void I8042::write(uint64_t offset, std::span<const uint8_t> data) {
  bool reset = false;
  {
    std::lock_guard lock(mu_);
    if (offset == kCommandPort - kDataPort) {
      status_cmd_ = kStatusCommand;
      reset = data[0] == kCmdResetCpu;
      if (!reset) command(data[0]);
    } else if (offset == 0) {
      status_cmd_ = 0;
      data_byte(data[0]);
    }
    if (output_.size() > kMaxOutput) output_.pop_front();
  }
  if (reset && on_reset_) on_reset_();
}

void I8042::command(uint8_t cmd) {
  pending_ = 0;
  switch (cmd) {
    case kCmdReadCtr:
      output_.push_back(ctr_);
      break;
    case kCmdWriteCtr:
    case kCmdWriteOutPort:
    case kCmdKbdLoop:
    case kCmdAuxLoop:
    case kCmdAuxSend:
      pending_ = cmd;
      break;
    case kCmdAuxDisable:
      ctr_ |= kCtrAuxDisabled;
      break;
    case kCmdAuxEnable:
      ctr_ &= ~kCtrAuxDisabled;
      break;
    // No mouse: the aux clock line reads as stuck low (1), so Linux
    // concludes there is no aux port without waiting.
    case kCmdAuxTest:
      output_.push_back(0x01);
      break;
    case kCmdSelfTest:
      output_.push_back(0x55);
      break;  // passed
    case kCmdKbdTest:
      output_.push_back(0x00);
      break;  // interface ok
    case kCmdReadOutPort:
      output_.push_back(0x01);
      break;  // A20 gate irrelevant, reset line high
    default:
      break;  // enable/disable keyboard and the rest: nothing to do
  }
}

void I8042::data_byte(uint8_t value) {
  uint8_t cmd = pending_;
  pending_ = 0;
  switch (cmd) {
    case kCmdWriteCtr:
      ctr_ = value;
      break;
    case kCmdKbdLoop:
      output_.push_back(value);
      break;
    // The aux loopback does not come back intact: no aux device, so Linux
    // gives up on the port (and on multiplexing) at once.
    case kCmdAuxLoop:
      output_.push_back(static_cast<uint8_t>(~value));
      break;
    default:
      break;  // bytes for a keyboard or mouse that is not there
  }
}

}  // namespace vmrt::vmm
