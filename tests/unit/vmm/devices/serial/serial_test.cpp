// The UART as the Linux 8250 driver drives it: transmit, THR-empty
// interrupts, receive with data-ready interrupts, divisor latch, loopback.
#include "vmm/devices/serial/serial.h"

#include <gtest/gtest.h>
#include <linux/serial_reg.h>

#include <string>

namespace vmrt::vmm {
namespace {

struct SerialFixture : ::testing::Test {
  std::string out;
  int irqs = 0;
  Serial uart{[this](std::span<const uint8_t> b) { out.append(b.begin(), b.end()); },
              [this] { ++irqs; }};

  uint8_t in(uint64_t reg) {
    uint8_t v = 0;
    uart.read(reg, {&v, 1});
    return v;
  }
  void outb(uint64_t reg, uint8_t v) { uart.write(reg, {&v, 1}); }
};

TEST_F(SerialFixture, TransmitsBytesToTheSink) {
  for (char c : std::string("ok\n")) outb(UART_TX, static_cast<uint8_t>(c));
  EXPECT_EQ(out, "ok\n");
  EXPECT_TRUE(in(UART_LSR)&UART_LSR_THRE);
  EXPECT_TRUE(in(UART_LSR)&UART_LSR_TEMT);
  EXPECT_EQ(irqs, 0) << "no interrupt without IER";
}

TEST_F(SerialFixture, ThrEmptyInterruptIsRaisedAndAcknowledgedByIirRead) {
  outb(UART_IER, UART_IER_THRI);
  EXPECT_EQ(irqs, 1) << "enabling THRI with an empty THR interrupts at once";
  EXPECT_EQ(in(UART_IIR)&0x0f, UART_IIR_THRI);
  EXPECT_EQ(in(UART_IIR)&0x0f, UART_IIR_NO_INT) << "reading IIR acknowledged it";
  outb(UART_TX, 'x');
  EXPECT_EQ(irqs, 2);
  EXPECT_EQ(in(UART_IIR)&0x0f, UART_IIR_THRI);
}

TEST_F(SerialFixture, ReceivedBytesRaiseDataReadyUntilDrained) {
  outb(UART_IER, UART_IER_RDI);
  const uint8_t input[] = {'h', 'i'};
  EXPECT_EQ(uart.enqueue_input(input), 2u);
  EXPECT_GE(irqs, 1);
  EXPECT_TRUE(in(UART_LSR)&UART_LSR_DR);
  EXPECT_EQ(in(UART_IIR)&0x0f, UART_IIR_RDI);
  EXPECT_EQ(in(UART_RX), 'h');
  EXPECT_EQ(in(UART_RX), 'i');
  EXPECT_FALSE(in(UART_LSR)&UART_LSR_DR);
  EXPECT_EQ(in(UART_IIR)&0x0f, UART_IIR_NO_INT);
}

TEST_F(SerialFixture, InputBeyondTheBufferIsDroppedNotQueuedForever) {
  std::string big(10000, 'a');
  size_t queued = uart.enqueue_input({reinterpret_cast<const uint8_t*>(big.data()), big.size()});
  EXPECT_LT(queued, big.size());
  EXPECT_GT(queued, 0u);
}

TEST_F(SerialFixture, DivisorLatchSharesTheDataPorts) {
  outb(UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
  outb(UART_DLL, 0x01);
  outb(UART_DLM, 0x00);
  EXPECT_EQ(in(UART_DLL), 0x01);
  outb(UART_LCR, UART_LCR_WLEN8);
  outb(UART_TX, 'z');
  EXPECT_EQ(out, "z") << "with DLAB clear, port 0 transmits again";
  EXPECT_EQ(in(UART_IER), 0);
}

TEST_F(SerialFixture, LoopbackEchoesWithoutReachingTheSink) {
  outb(UART_MCR, UART_MCR_LOOP | UART_MCR_RTS | UART_MCR_OUT2);
  EXPECT_EQ(in(UART_MSR) & (UART_MSR_CTS | UART_MSR_DCD), UART_MSR_CTS | UART_MSR_DCD);
  outb(UART_TX, 0x5a);
  EXPECT_EQ(out, "");
  EXPECT_EQ(in(UART_RX), 0x5a);
}

TEST_F(SerialFixture, ScratchRegisterHoldsItsValue) {
  outb(UART_SCR, 0xa5);
  EXPECT_EQ(in(UART_SCR), 0xa5);
}

}  // namespace
}  // namespace vmrt::vmm
