#include "tools/vmrt/signal_names.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <string.h>

#include <string>

#include "tests/support/error_text.h"

namespace vmrt::cli {
namespace {

using test::error_text;
using ::testing::HasSubstr;

TEST(ParseSignal, TakesNumbersFromOneTo64) {
  EXPECT_EQ(parse_signal("9"), 9);
  EXPECT_EQ(parse_signal("1"), 1);
  EXPECT_EQ(parse_signal("64"), 64);
  EXPECT_EQ(parse_signal("32"), 32);
}

TEST(ParseSignal, TakesNamesWithOrWithoutSigInAnyCase) {
  EXPECT_EQ(parse_signal("KILL"), SIGKILL);
  EXPECT_EQ(parse_signal("SIGKILL"), SIGKILL);
  EXPECT_EQ(parse_signal("sigterm"), SIGTERM);
  EXPECT_EQ(parse_signal("Hup"), SIGHUP);
  EXPECT_EQ(parse_signal("usr1"), SIGUSR1);
  EXPECT_EQ(parse_signal("SIGWINCH"), SIGWINCH);
  EXPECT_EQ(parse_signal("STKFLT"), 16);
  EXPECT_EQ(parse_signal("PWR"), 30);
  EXPECT_EQ(parse_signal("SYS"), 31);
}

TEST(ParseSignal, TakesTheUsualAliases) {
  EXPECT_EQ(parse_signal("IOT"), SIGABRT);
  EXPECT_EQ(parse_signal("SIGCLD"), SIGCHLD);
  EXPECT_EQ(parse_signal("POLL"), SIGIO);
}

TEST(ParseSignal, NumbersRealTimeSignalsAsTheKernelDoes) {
  // The kernel's first real-time signal is 34 whatever glibc's SIGRTMIN says.
  EXPECT_EQ(parse_signal("RTMIN"), 34);
  EXPECT_EQ(parse_signal("SIGRTMIN"), 34);
  EXPECT_EQ(parse_signal("RTMIN+3"), 37);
  EXPECT_EQ(parse_signal("sigrtmin+0"), 34);
  EXPECT_EQ(parse_signal("RTMIN+30"), 64);
  EXPECT_EQ(parse_signal("RTMAX"), 64);
  EXPECT_EQ(parse_signal("SIGRTMAX-1"), 63);
  EXPECT_EQ(parse_signal("rtmax-30"), 34);
}

TEST(ParseSignal, RejectsEverythingElseNamingIt) {
  EXPECT_EQ(error_text([] { parse_signal("FOO"); }), "unknown signal \"FOO\"");
  for (const char* bad :
       {"0", "65", "99", "-9", "+9", " 9", "9 ", "", "SIG", "SIGSIGKILL", "KILL9", "RTMIN+31",
        "RTMAX-31", "RTMIN-1", "RTMAX+1", "RTMIN+", "RTMIN+-1", "RTMIN+x", "99999999999999999999"})
    EXPECT_THAT(error_text([&] { parse_signal(bad); }), HasSubstr("unknown signal")) << bad;
}

TEST(SignalName, NamesStandardAndRealTimeSignals) {
  EXPECT_EQ(signal_name(9), "SIGKILL");
  EXPECT_EQ(signal_name(6), "SIGABRT");
  EXPECT_EQ(signal_name(17), "SIGCHLD");
  EXPECT_EQ(signal_name(29), "SIGIO");
  EXPECT_EQ(signal_name(34), "SIGRTMIN");
  EXPECT_EQ(signal_name(37), "SIGRTMIN+3");
  EXPECT_EQ(signal_name(63), "SIGRTMIN+29");
  EXPECT_EQ(signal_name(64), "SIGRTMAX");
}

TEST(SignalName, GivesTheNumberForOthers) {
  EXPECT_EQ(signal_name(0), "signal 0");
  EXPECT_EQ(signal_name(32), "signal 32");
  EXPECT_EQ(signal_name(33), "signal 33");
  EXPECT_EQ(signal_name(99), "signal 99");
  EXPECT_EQ(signal_name(-1), "signal -1");
}

TEST(SignalName, ParsesBackToTheSameNumber) {
  for (int sig = 1; sig <= 64; ++sig) {
    if (sig == 32 || sig == 33) continue;  // glibc's own, no name
    EXPECT_EQ(parse_signal(signal_name(sig)), sig) << signal_name(sig);
  }
}

TEST(SignalName, AgreesWithTheHostLibcForStandardSignals) {
  for (int sig = 1; sig < 32; ++sig) {
    const char* abbrev = sigabbrev_np(sig);  // "KILL" for 9
    ASSERT_NE(abbrev, nullptr) << sig;
    EXPECT_EQ(parse_signal(abbrev), sig) << abbrev;
    // glibc prints 29 as POLL; runc (Go's x/sys/unix) as SIGIO, like us.
    if (sig != SIGIO) {
      EXPECT_EQ(signal_name(sig), std::string("SIG") + abbrev);
    }
  }
}

}  // namespace
}  // namespace vmrt::cli
