#pragma once
// A 16550A UART as Linux's 8250 driver expects it on COM1 (0x3f8, IRQ 4):
// transmit goes to a sink, receive comes from the VMM's input, and the
// THR-empty / data-ready interrupts follow the IER, IIR and LSR rules.

#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "vmm/devices/bus.h"

namespace vmrt::vmm {

class Serial : public BusDevice {
 public:
  static constexpr uint64_t kCom1Base = 0x3f8;
  static constexpr uint64_t kPortCount = 8;
  static constexpr uint32_t kCom1Irq = 4;

  using Sink = std::function<void(std::span<const uint8_t>)>;
  using Irq = std::function<void()>;

  // `sink` receives every byte the guest transmits; `irq` raises the UART's
  // interrupt line (an edge).
  Serial(Sink sink, Irq irq) : sink_(std::move(sink)), irq_(std::move(irq)) {}

  void read(uint64_t offset, std::span<uint8_t> data) override;
  void write(uint64_t offset, std::span<const uint8_t> data) override;

  // Queues input for the guest (bounded: bytes beyond the FIFO space are
  // dropped, as a real UART would overrun). Returns how many were queued.
  size_t enqueue_input(std::span<const uint8_t> bytes);

  // The registers, for a snapshot. Input the guest has not read yet is not
  // saved and is lost: a template is taken with an idle console.
  struct Registers {
    uint8_t ier = 0;
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t scr = 0;
    uint8_t dll = 0;
    uint8_t dlm = 0;
    bool thr_empty_pending = false;
    bool fifo_enabled = false;
  };
  nlohmann::json save_state();
  // Validates a saved state (`path` names it in messages); throws vmrt::Error.
  static Registers parse_state(const nlohmann::json& j, const std::string& path);
  // Before the guest runs; raises no interrupt (the saved IOAPIC and PIC
  // state already hold any that was pending).
  void restore_state(const Registers& r);

 private:
  uint8_t read_reg(uint64_t offset);
  void write_reg(uint64_t offset, uint8_t value);
  // Recomputes the pending interrupt and raises the line when one appears.
  bool update_interrupt();
  uint8_t iir() const;

  std::mutex mu_;
  Sink sink_;
  Irq irq_;
  std::deque<uint8_t> rx_;
  uint8_t ier_ = 0;
  uint8_t lcr_ = 0x03;  // 8N1
  uint8_t mcr_ = 0x08;  // OUT2: interrupts routed to the PIC
  uint8_t scr_ = 0;
  uint8_t dll_ = 0x0c;  // 9600 baud, the reset divisor
  uint8_t dlm_ = 0;
  bool thr_empty_pending_ = false;
  bool fifo_enabled_ = false;
};

}  // namespace vmrt::vmm
