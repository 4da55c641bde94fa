#include "tests/kvm/payload.h"

#include "vmm/boot/kernel_loader.h"
#include "vmm/machine/boot_registers.h"

namespace vmrt::vmm::test {

std::vector<uint8_t> real_mode_print(std::string_view text, const std::vector<uint8_t>& tail) {
  std::vector<uint8_t> code = {0xba, 0xf8, 0x03};  // mov dx, 0x3f8
  for (char c : text) {
    code.push_back(0xb0);  // mov al, c
    code.push_back(static_cast<uint8_t>(c));
    code.push_back(0xee);  // out dx, al
  }
  code.insert(code.end(), tail.begin(), tail.end());
  return code;
}

std::vector<uint8_t> i8042_reset() {
  return {0xb0, 0xfe,  // mov al, 0xfe
          0xe6, 0x64,  // out 0x64, al
          0xf4};       // hlt (not reached)
}

std::vector<uint8_t> spin_forever() { return {0xeb, 0xfe}; }  // jmp $

std::vector<uint8_t> long_mode_mmio_echo(uint32_t addr, uint8_t value) {
  std::vector<uint8_t> code = {0xbb};  // mov ebx, addr (zero-extended into rbx)
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(addr >> (8 * i)));
  code.insert(code.end(), {
                              0xb0, value,             // mov al, value
                              0x88, 0x03,              // mov [rbx], al
                              0x8a, 0x03,              // mov al, [rbx]
                              0x66, 0xba, 0xf8, 0x03,  // mov dx, 0x3f8
                              0xee,                    // out dx, al
                          });
  auto reset = i8042_reset();
  code.insert(code.end(), reset.begin(), reset.end());
  return code;
}

std::vector<uint8_t> long_mode_unmapped_read() {
  return {0x48, 0xb8, 0, 0, 0, 0, 0x10, 0, 0, 0,  // mov rax, 0x10'0000'0000 (64 GiB: not mapped)
          0x8a, 0x00,                             // mov al, [rax]
          0xf4};                                  // hlt (not reached)
}

std::vector<uint8_t> long_mode_print_and_halt(std::string_view text) {
  std::vector<uint8_t> code = {0x66, 0xba, 0xf8, 0x03};  // mov dx, 0x3f8
  for (char c : text) code.insert(code.end(), {0xb0, static_cast<uint8_t>(c), 0xee});  // out
  code.insert(code.end(), {0xf4,                                                       // hlt
                           0xeb, 0xfd});  // jmp back to the hlt
  return code;
}

std::vector<uint8_t> long_mode_count_forever(uint32_t counter) {
  std::vector<uint8_t> code = {0x48, 0xff, 0x04, 0x25};  // inc qword [counter] (disp32, no base)
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(counter >> (8 * i)));
  code.insert(code.end(), {0x48, 0xff, 0xc3,  // inc rbx
                           0xeb, 0xf3});      // jmp back 13 bytes, to the first inc
  return code;
}

std::vector<uint8_t> long_mode_in_and_add(uint16_t port, uint32_t counter) {
  std::vector<uint8_t> code = {0x31,
                               0xc0,  // xor eax, eax
                               0x66,
                               0xba,
                               static_cast<uint8_t>(port),
                               static_cast<uint8_t>(port >> 8),  // mov dx, port
                               0xec,                             // in al, dx
                               0x48,
                               0x01,
                               0x04,
                               0x25};  // add [counter], rax
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(counter >> (8 * i)));
  code.insert(code.end(), {0xeb, 0xef});  // jmp back 17 bytes, to the xor
  return code;
}

namespace {
void put32(std::vector<uint8_t>& code, uint32_t v) {
  for (int i = 0; i < 4; ++i) code.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
}  // namespace

std::vector<uint8_t> long_mode_count_and_start_aps(uint32_t counter, uint32_t start_flag,
                                                   uint8_t sipi_vector) {
  std::vector<uint8_t> code = {0x48, 0xff, 0x04, 0x25};  // 0: inc qword [counter]
  put32(code, counter);
  code.insert(code.end(), {0x8b, 0x04, 0x25});  // 8: mov eax, [start_flag]
  put32(code, start_flag);
  code.insert(code.end(), {
                              0x85, 0xc0,        // 15: test eax, eax
                              0x74, 0xed,        // 17: jz 0
                              0xff, 0xc8,        // 19: dec eax
                              0xc1, 0xe0, 0x18,  // 21: shl eax, 24 (ICR destination field)
                              0xbb, 0x00, 0x00, 0xe0, 0xfe,        // 24: mov ebx, 0xfee00000
                              0x89, 0x83, 0x10, 0x03, 0x00, 0x00,  // 29: mov [rbx+0x310], eax
                              // 35: mov dword [rbx+0x300], 0x4500: INIT, level assert
                              0xc7, 0x83, 0x00, 0x03, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00,
                              // 45: mov dword [rbx+0x300], 0x4600 | vector: STARTUP
                              0xc7, 0x83, 0x00, 0x03, 0x00, 0x00, sipi_vector, 0x46, 0x00, 0x00,
                              0xc7, 0x04, 0x25,  // 55: mov dword [start_flag], 0
                          });
  put32(code, start_flag);
  put32(code, 0);
  code.insert(code.end(), {0xeb, 0xbc});  // 66: jmp 0
  return code;
}

std::vector<uint8_t> real_mode_count_forever(uint16_t counter) {
  return {0x31,
          0xc0,  // xor ax, ax
          0x8e,
          0xd8,  // mov ds, ax
          0x66,
          0xff,
          0x06,
          static_cast<uint8_t>(counter),
          static_cast<uint8_t>(counter >> 8),  // inc dword [counter]
          0xeb,
          0xf9};  // jmp back to the inc
}

void load_real_mode(Machine& m, const std::vector<uint8_t>& code) {
  m.memory().write(kPayloadAddr, code);
  Vcpu& cpu = m.vcpu(0);
  kvm_sregs s = cpu.sregs();
  s.cs.base = 0;
  s.cs.selector = 0;
  for (kvm_segment* seg : {&s.ds, &s.es, &s.ss}) {
    seg->base = 0;
    seg->selector = 0;
  }
  cpu.set_sregs(s);
  kvm_regs r{};
  r.rip = kPayloadAddr;
  r.rflags = 0x2;
  r.rsp = 0x8000;
  cpu.set_regs(r);
}

}  // namespace vmrt::vmm::test

namespace vmrt::vmm::test {

void load_long_mode(Machine& m, const std::vector<uint8_t>& code) {
  m.memory().write(kPayloadAddr, code);
  // Started exactly as the loader starts a kernel through the 64-bit protocol.
  set_boot_registers(m.vcpu(0), boot::entry_cpu_state(m.memory(), boot::BootSetup::Mode::Linux64,
                                                      kPayloadAddr, /*boot_info=*/0));
}

}  // namespace vmrt::vmm::test
