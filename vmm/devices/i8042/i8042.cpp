#include "vmm/devices/i8042/i8042.h"

#include <algorithm>

#include "vmm/snapshot/fields.h"

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

nlohmann::json I8042::save_state() {
  std::lock_guard lock(mu_);
  return {
      {"ctr", ctr_},
      {"status_cmd", status_cmd_},
      {"pending", pending_},
      {"output", nlohmann::json::binary_t(std::vector<uint8_t>(output_.begin(), output_.end()))}};
}

I8042::Registers I8042::parse_state(const nlohmann::json& j, const std::string& path) {
  using namespace snapshot;
  auto reg = [&](const char* key) { return uint_field<uint8_t>(j, path, key); };
  Registers r;
  r.ctr = reg("ctr");
  r.status_cmd = reg("status_cmd");
  r.pending = reg("pending");
  const auto& out = blob_field(j, path, "output");
  if (out.size() > kMaxOutput + 1)
    fail("snapshot state: {}.output: {} bytes, more than the controller buffers", path, out.size());
  r.output.assign(out.begin(), out.end());
  if (r.status_cmd & ~kStatusCommand)
    fail("snapshot state: {}.status_cmd: {:#x} is not a status the controller keeps", path,
         r.status_cmd);
  return r;
}

void I8042::restore_state(const Registers& r) {
  std::lock_guard lock(mu_);
  ctr_ = r.ctr;
  status_cmd_ = r.status_cmd;
  pending_ = r.pending;
  output_.assign(r.output.begin(), r.output.end());
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
