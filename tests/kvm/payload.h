#pragma once
// Tiny guest programs for the kvm tests, assembled by hand (the bytes are
// commented with their instructions) and the register state to run them.

#include <cstdint>
#include <string_view>
#include <vector>

#include "vmm/machine/machine.h"

namespace vmrt::vmm::test {

// Where payloads are loaded in guest RAM.
constexpr uint64_t kPayloadAddr = 0x1000;

// Real-mode code that writes `text` to COM1 then runs `tail`.
std::vector<uint8_t> real_mode_print(std::string_view text, const std::vector<uint8_t>& tail);

// Tails for real_mode_print.
std::vector<uint8_t> i8042_reset();   // out 0x64, 0xfe
std::vector<uint8_t> spin_forever();  // jmp $

// 64-bit code: writes `value` to MMIO `addr`, reads it back, prints the byte
// read to COM1, then resets through the i8042.
std::vector<uint8_t> long_mode_mmio_echo(uint32_t addr, uint8_t value);
// 64-bit code reading an unmapped address: with an empty IDT the page fault
// cannot be delivered (#PF, #DF, then a triple fault).
std::vector<uint8_t> long_mode_unmapped_read();

// 64-bit code that writes `text` to COM1, then halts for good (interrupts
// stay off, so the vCPU sleeps in KVM_RUN until the host ends the VM).
std::vector<uint8_t> long_mode_print_and_halt(std::string_view text);

// 64-bit code that forever increments the quadword at `counter` (below
// 2 GiB) and then rbx: at any instruction boundary the counter equals rbx
// or rbx + 1.
std::vector<uint8_t> long_mode_count_forever(uint32_t counter);

// 64-bit code that forever reads a byte from port `port` (an exit to the
// VMM each time) into a cleared rax and adds it to the quadword at
// `counter`.
std::vector<uint8_t> long_mode_in_and_add(uint16_t port, uint32_t counter);
// Where the addition of long_mode_in_and_add starts.
constexpr uint64_t kInAndAddAddAddr = kPayloadAddr + 7;

// 64-bit code that counts like long_mode_count_forever (without rbx) and,
// whenever the dword at `start_flag` is not 0, starts the AP whose APIC ID
// is that value - 1 as Linux does (an INIT, then a STARTUP IPI with
// `sipi_vector`, through the xAPIC's ICR), and clears the flag.
std::vector<uint8_t> long_mode_count_and_start_aps(uint32_t counter, uint32_t start_flag,
                                                   uint8_t sipi_vector);
// Real-mode code for an AP's STARTUP vector: forever increments the dword
// at `counter` (below 64 KiB).
std::vector<uint8_t> real_mode_count_forever(uint16_t counter);

// Copies `code` to kPayloadAddr and points vCPU 0 at it in real mode.
void load_real_mode(Machine& m, const std::vector<uint8_t>& code);

// Copies `code` to kPayloadAddr and starts vCPU 0 on it in 64-bit long mode,
// with the CPU state the loader gives a kernel (GDT, null IDT, identity page
// tables).
void load_long_mode(Machine& m, const std::vector<uint8_t>& code);

}  // namespace vmrt::vmm::test
