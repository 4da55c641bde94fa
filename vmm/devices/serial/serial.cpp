#include "vmm/devices/serial/serial.h"

#include <linux/serial_reg.h>

#include "vmm/snapshot/fields.h"

namespace vmrt::vmm {

namespace {
constexpr size_t kRxCapacity = 4096;
constexpr uint8_t kIirFifoBits = 0xc0;
// Modem status with the lines a terminal would assert: DCD, DSR, CTS.
constexpr uint8_t kMsrConnected = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
}  // namespace

void Serial::read(uint64_t offset, std::span<uint8_t> data) {
  std::lock_guard lock(mu_);
  data[0] = read_reg(offset);
  for (size_t i = 1; i < data.size(); ++i) data[i] = 0;
}

void Serial::write(uint64_t offset, std::span<const uint8_t> data) {
  std::lock_guard lock(mu_);
  write_reg(offset, data[0]);
}

size_t Serial::enqueue_input(std::span<const uint8_t> bytes) {
  std::lock_guard lock(mu_);
  size_t n = std::min(bytes.size(), kRxCapacity - rx_.size());
  rx_.insert(rx_.end(), bytes.begin(), bytes.begin() + n);
  if (n) update_interrupt();
  return n;
}

nlohmann::json Serial::save_state() {
  std::lock_guard lock(mu_);
  return {{"ier", ier_},
          {"lcr", lcr_},
          {"mcr", mcr_},
          {"scr", scr_},
          {"dll", dll_},
          {"dlm", dlm_},
          {"thr_empty_pending", thr_empty_pending_},
          {"fifo_enabled", fifo_enabled_}};
}

Serial::Registers Serial::parse_state(const nlohmann::json& j, const std::string& path) {
  using namespace snapshot;
  auto reg = [&](const char* key) { return uint_field<uint8_t>(j, path, key); };
  Registers r;
  r.ier = reg("ier");
  r.lcr = reg("lcr");
  r.mcr = reg("mcr");
  r.scr = reg("scr");
  r.dll = reg("dll");
  r.dlm = reg("dlm");
  r.thr_empty_pending = bool_field(j, path, "thr_empty_pending");
  r.fifo_enabled = bool_field(j, path, "fifo_enabled");
  // The bits a guest can set: the same masks as the register writes.
  if (r.ier & ~0x0f) fail("snapshot state: {}.ier: {:#x} sets reserved bits", path, r.ier);
  if (r.mcr & ~0x1f) fail("snapshot state: {}.mcr: {:#x} sets reserved bits", path, r.mcr);
  return r;
}

void Serial::restore_state(const Registers& r) {
  std::lock_guard lock(mu_);
  ier_ = r.ier;
  lcr_ = r.lcr;
  mcr_ = r.mcr;
  scr_ = r.scr;
  dll_ = r.dll;
  dlm_ = r.dlm;
  thr_empty_pending_ = r.thr_empty_pending;
  fifo_enabled_ = r.fifo_enabled;
  rx_.clear();
}

uint8_t Serial::iir() const {
  uint8_t fifo = fifo_enabled_ ? kIirFifoBits : 0;
  if ((ier_ & UART_IER_RDI) && !rx_.empty()) return fifo | UART_IIR_RDI;
  if ((ier_ & UART_IER_THRI) && thr_empty_pending_) return fifo | UART_IIR_THRI;
  return fifo | UART_IIR_NO_INT;
}

bool Serial::update_interrupt() {
  bool pending = !(iir() & UART_IIR_NO_INT);
  if (pending && irq_) irq_();
  return pending;
}

uint8_t Serial::read_reg(uint64_t offset) {
  bool dlab = lcr_ & UART_LCR_DLAB;
  switch (offset) {
    case UART_RX:
      if (dlab) return dll_;
      if (rx_.empty()) return 0;
      {
        uint8_t b = rx_.front();
        rx_.pop_front();
        update_interrupt();
        return b;
      }
    case UART_IER:
      return dlab ? dlm_ : ier_;
    case UART_IIR: {
      uint8_t v = iir();
      // Reading IIR acknowledges a THR-empty interrupt.
      if ((v & 0x0f) == UART_IIR_THRI) thr_empty_pending_ = false;
      return v;
    }
    case UART_LCR:
      return lcr_;
    case UART_MCR:
      return mcr_;
    case UART_LSR: {
      // The transmitter drains instantly: THR and shift register always empty.
      uint8_t lsr = UART_LSR_THRE | UART_LSR_TEMT;
      if (!rx_.empty()) lsr |= UART_LSR_DR;
      return lsr;
    }
    case UART_MSR:
      if (mcr_ & UART_MCR_LOOP) {
        // Loopback wires RTS->CTS, DTR->DSR, OUT1->RI, OUT2->DCD.
        return static_cast<uint8_t>(((mcr_ & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
                                    ((mcr_ & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
                                    ((mcr_ & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
                                    ((mcr_ & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
      }
      return kMsrConnected;
    case UART_SCR:
      return scr_;
  }
  return 0;
}

void Serial::write_reg(uint64_t offset, uint8_t value) {
  bool dlab = lcr_ & UART_LCR_DLAB;
  switch (offset) {
    case UART_TX:
      if (dlab) {
        dll_ = value;
        return;
      }
      if (mcr_ & UART_MCR_LOOP) {
        // The driver's loopback probe expects its byte back on RX.
        if (rx_.size() < kRxCapacity) rx_.push_back(value);
      } else if (sink_) {
        sink_({&value, 1});
      }
      thr_empty_pending_ = true;
      update_interrupt();
      return;
    case UART_IER:
      if (dlab) {
        dlm_ = value;
        return;
      }
      // Enabling THRI while the THR is empty raises it at once (the 8250
      // driver relies on this to start transmitting).
      if ((value & UART_IER_THRI) && !(ier_ & UART_IER_THRI)) thr_empty_pending_ = true;
      ier_ = value & 0x0f;
      update_interrupt();
      return;
    case UART_FCR:
      fifo_enabled_ = value & UART_FCR_ENABLE_FIFO;
      if (value & UART_FCR_CLEAR_RCVR) rx_.clear();
      return;
    case UART_LCR:
      lcr_ = value;
      return;
    case UART_MCR:
      mcr_ = value & 0x1f;
      return;
    case UART_SCR:
      scr_ = value;
      return;
  }
}

}  // namespace vmrt::vmm
