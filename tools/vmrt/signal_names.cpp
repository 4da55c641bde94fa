// Signal names and numbers of the Linux kernel ABI (x86-64 numbering, as in
// golang.org/x/sys/unix, which runc uses). Real-time signals count from the
// kernel's 34, not from glibc's SIGRTMIN macro: glibc reserves the first two
// or three for itself and its SIGRTMIN is a run-time value (34 or 35), but
// the process receiving the signal is in a guest and may not use glibc.
#include "tools/vmrt/signal_names.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <optional>
#include <string>

#include "common/error.h"

namespace vmrt::cli {

namespace {

constexpr int kRtMin = 34;
constexpr int kRtMax = 64;

struct Named {
  const char* name;  // without "SIG"
  int number;
};

// The first name of each number is the one signal_name prints; later ones
// are aliases that parse_signal also takes.
constexpr std::array<Named, 34> kSignals{{
    {"HUP", 1},   {"INT", 2},     {"QUIT", 3},  {"ILL", 4},     {"TRAP", 5},  {"ABRT", 6},
    {"BUS", 7},   {"FPE", 8},     {"KILL", 9},  {"USR1", 10},   {"SEGV", 11}, {"USR2", 12},
    {"PIPE", 13}, {"ALRM", 14},   {"TERM", 15}, {"STKFLT", 16}, {"CHLD", 17}, {"CONT", 18},
    {"STOP", 19}, {"TSTP", 20},   {"TTIN", 21}, {"TTOU", 22},   {"URG", 23},  {"XCPU", 24},
    {"XFSZ", 25}, {"VTALRM", 26}, {"PROF", 27}, {"WINCH", 28},  {"IO", 29},   {"PWR", 30},
    {"SYS", 31},  {"IOT", 6},     {"CLD", 17},  {"POLL", 29},
}};

[[noreturn]] void unknown(std::string_view text) { fail("unknown signal \"{}\"", text); }

// A decimal number made only of digits; nullopt otherwise (a sign, spaces,
// trailing characters, an empty string or an overflow).
std::optional<int> digits(std::string_view s) {
  int n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) || ec != std::errc() ||
      end != s.data() + s.size())
    return std::nullopt;
  return n;
}

// "RTMIN", "RTMIN+N", "RTMAX", "RTMAX-N", staying within 34..64.
std::optional<int> realtime(std::string_view name) {
  int base, sign;
  if (name.starts_with("RTMIN")) {
    base = kRtMin, sign = 1;
  } else if (name.starts_with("RTMAX")) {
    base = kRtMax, sign = -1;
  } else {
    return std::nullopt;
  }
  std::string_view rest = name.substr(5);
  if (rest.empty()) return base;
  if (rest[0] != (sign > 0 ? '+' : '-')) return std::nullopt;
  std::optional<int> offset = digits(rest.substr(1));
  if (!offset || *offset > kRtMax - kRtMin) return std::nullopt;
  return base + sign * *offset;
}

}  // namespace

int parse_signal(std::string_view text) {
  if (std::optional<int> n = digits(text)) {
    if (*n < 1 || *n > kRtMax) unknown(text);
    return *n;
  }
  std::string name(text);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string_view bare = name;
  if (bare.starts_with("SIG")) bare.remove_prefix(3);
  for (const Named& s : kSignals)
    if (bare == s.name) return s.number;
  if (std::optional<int> rt = realtime(bare)) return *rt;
  unknown(text);
}

std::string signal_name(int sig) {
  for (const Named& s : kSignals)
    if (s.number == sig) return std::string("SIG") + s.name;
  if (sig == kRtMin) return "SIGRTMIN";
  if (sig == kRtMax) return "SIGRTMAX";
  if (sig > kRtMin && sig < kRtMax) return "SIGRTMIN+" + std::to_string(sig - kRtMin);
  return "signal " + std::to_string(sig);
}

}  // namespace vmrt::cli
