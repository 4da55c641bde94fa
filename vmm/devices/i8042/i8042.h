#pragma once
// An i8042 keyboard controller with nothing plugged in. Its one job in a
// micro-VM is the reset command (0xfe to port 0x64, what `reboot=k` uses),
// which ends the VM. The rest answers the probing of the guest's i8042
// driver promptly (configuration byte, self-tests, an absent aux port):
// a controller that stays silent costs the guest a 500 ms timeout per
// unanswered command at boot.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "vmm/devices/bus.h"

namespace vmrt::vmm {

class I8042 : public BusDevice {
 public:
  static constexpr uint64_t kDataPort = 0x60;
  static constexpr uint64_t kCommandPort = 0x64;
  // Controller commands (written to kCommandPort).
  static constexpr uint8_t kCmdReadCtr = 0x20;
  static constexpr uint8_t kCmdWriteCtr = 0x60;
  static constexpr uint8_t kCmdAuxDisable = 0xa7;
  static constexpr uint8_t kCmdAuxEnable = 0xa8;
  static constexpr uint8_t kCmdAuxTest = 0xa9;
  static constexpr uint8_t kCmdSelfTest = 0xaa;
  static constexpr uint8_t kCmdKbdTest = 0xab;
  static constexpr uint8_t kCmdKbdDisable = 0xad;
  static constexpr uint8_t kCmdKbdEnable = 0xae;
  static constexpr uint8_t kCmdReadOutPort = 0xd0;
  static constexpr uint8_t kCmdWriteOutPort = 0xd1;
  static constexpr uint8_t kCmdKbdLoop = 0xd2;
  static constexpr uint8_t kCmdAuxLoop = 0xd3;
  static constexpr uint8_t kCmdAuxSend = 0xd4;
  static constexpr uint8_t kCmdResetCpu = 0xfe;
  // Status register bits.
  static constexpr uint8_t kStatusOutputFull = 0x01;
  static constexpr uint8_t kStatusSystemFlag = 0x04;
  static constexpr uint8_t kStatusCommand = 0x08;  // last write went to the command port
  static constexpr uint8_t kStatusUnlocked = 0x10;
  // Configuration byte (CTR) bits.
  static constexpr uint8_t kCtrKbdInt = 0x01;
  static constexpr uint8_t kCtrSystemFlag = 0x04;
  static constexpr uint8_t kCtrAuxDisabled = 0x20;
  static constexpr uint8_t kCtrTranslate = 0x40;

  explicit I8042(std::function<void()> on_reset) : on_reset_(std::move(on_reset)) {}

  // Registered at kDataPort with length 5 (0x60..0x64).
  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  // The controller's state, for a snapshot (the answers the guest has not
  // read yet included: a handful of bytes).
  struct Registers {
    uint8_t ctr = 0;
    uint8_t status_cmd = 0;
    uint8_t pending = 0;
    std::vector<uint8_t> output;
  };
  nlohmann::json save_state();
  // Validates a saved state (`path` names it in messages); throws vmrt::Error.
  static Registers parse_state(const nlohmann::json& j, const std::string& path);
  void restore_state(const Registers& r);

 private:
  void command(uint8_t cmd);
  void data_byte(uint8_t value);

  std::function<void()> on_reset_;
  std::mutex mu_;
  uint8_t ctr_ = kCtrKbdInt | kCtrSystemFlag | kCtrAuxDisabled | kCtrTranslate;
  uint8_t status_cmd_ = 0;
  uint8_t pending_ = 0;  // a command waiting for its data byte
  std::deque<uint8_t> output_;
};

}  // namespace vmrt::vmm
