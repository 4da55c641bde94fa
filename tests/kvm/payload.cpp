#include "tests/kvm/payload.h"

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
