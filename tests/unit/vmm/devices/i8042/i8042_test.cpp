// The i8042 answers a guest driver's probing at once and resets on 0xfe.
#include "vmm/devices/i8042/i8042.h"

#include <gtest/gtest.h>

namespace vmrt::vmm {
namespace {

class I8042Test : public ::testing::Test {
 protected:
  uint8_t in(uint64_t port) {
    uint8_t v = 0;
    dev.read(port - I8042::kDataPort, {&v, 1});
    return v;
  }
  void out(uint64_t port, uint8_t v) { dev.write(port - I8042::kDataPort, {&v, 1}); }
  uint8_t status() { return in(I8042::kCommandPort); }
  void command(uint8_t c) { out(I8042::kCommandPort, c); }
  uint8_t answer() {
    EXPECT_TRUE(status() & I8042::kStatusOutputFull) << "no answer waiting";
    return in(I8042::kDataPort);
  }

  int resets = 0;
  I8042 dev{[this] { ++resets; }};
};

TEST_F(I8042Test, StartsIdleWithTheSystemFlag) {
  EXPECT_FALSE(status() & I8042::kStatusOutputFull);
  EXPECT_TRUE(status() & I8042::kStatusSystemFlag);
  EXPECT_FALSE(status() & 0x02) << "input buffer must read empty, or reboot=k spins";
}

TEST_F(I8042Test, ReadsAndWritesTheConfigurationByte) {
  command(I8042::kCmdReadCtr);
  uint8_t ctr = answer();
  EXPECT_TRUE(ctr & I8042::kCtrSystemFlag);
  EXPECT_FALSE(status() & I8042::kStatusOutputFull);
  command(I8042::kCmdWriteCtr);
  out(I8042::kDataPort, 0x07);
  command(I8042::kCmdReadCtr);
  EXPECT_EQ(answer(), 0x07);
}

TEST_F(I8042Test, AnswersSelfTestsAndReportsNoAuxPort) {
  command(I8042::kCmdSelfTest);
  EXPECT_EQ(answer(), 0x55);
  command(I8042::kCmdKbdTest);
  EXPECT_EQ(answer(), 0x00);
  command(I8042::kCmdAuxLoop);
  out(I8042::kDataPort, 0x5a);
  EXPECT_NE(answer(), 0x5a);
  command(I8042::kCmdAuxTest);
  EXPECT_EQ(answer(), 0x01);
  command(I8042::kCmdKbdLoop);
  out(I8042::kDataPort, 0x42);
  EXPECT_EQ(answer(), 0x42);
}

TEST_F(I8042Test, AuxEnableTogglesTheConfigurationBit) {
  command(I8042::kCmdAuxEnable);
  command(I8042::kCmdReadCtr);
  EXPECT_FALSE(answer() & I8042::kCtrAuxDisabled);
  command(I8042::kCmdAuxDisable);
  command(I8042::kCmdReadCtr);
  EXPECT_TRUE(answer() & I8042::kCtrAuxDisabled);
}

TEST_F(I8042Test, ResetCommandEndsTheVm) {
  command(I8042::kCmdResetCpu);
  EXPECT_EQ(resets, 1);
}

TEST_F(I8042Test, OutputBufferIsBounded) {
  for (int i = 0; i < 1000; ++i) command(I8042::kCmdSelfTest);
  int n = 0;
  while (status() & I8042::kStatusOutputFull) {
    in(I8042::kDataPort);
    ++n;
  }
  EXPECT_LE(n, 16);
}

}  // namespace
}  // namespace vmrt::vmm
