// The guest console written to a file: a guest printing without end fills
// it up to the cap and no further, the output ending in one marker line.
#include "vmm/devices/serial/console_output.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/tempdir.h"

namespace vmrt::vmm {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

UniqueFd create(const std::filesystem::path& p) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  EXPECT_GE(fd, 0);
  return UniqueFd(fd);
}

void print(ConsoleOutput& out, const std::string& s) {
  out.write({reinterpret_cast<const uint8_t*>(s.data()), s.size()});
}

TEST(ConsoleOutput, OutputPastTheLimitIsCutWithOneMarker) {
  TempDir dir("console-test");
  auto path = dir.path() / "console.log";
  constexpr uint64_t kLimit = 64 * 1024;
  std::string printed;
  {
    ConsoleOutput out(create(path), kLimit);
    // The attack: 16 MiB of lines, 256 times the limit, in UART-sized writes.
    for (int i = 0; printed.size() < 256 * kLimit; ++i) {
      std::string line = "guest line " + std::to_string(i) + " " + std::string(40, 'x') + "\n";
      for (char c : line) print(out, std::string(1, c));
      printed += line;
    }
    out.flush();
    EXPECT_EQ(std::filesystem::file_size(path), kLimit);
  }
  std::string file = read_file(path);
  ASSERT_EQ(file.size(), kLimit) << "the file never grows past the limit";
  size_t kept = kLimit - ConsoleOutput::kCutMarker.size();
  EXPECT_EQ(file.substr(0, kept), printed.substr(0, kept)) << "the start of the output is kept";
  EXPECT_EQ(file.substr(kept), ConsoleOutput::kCutMarker);
}

TEST(ConsoleOutput, OutputWithinTheLimitIsWrittenWhole) {
  TempDir dir("console-test");
  auto path = dir.path() / "console.log";
  std::string printed;
  {
    ConsoleOutput out(create(path), 4096);
    for (int i = 0; i < 50; ++i) printed += "boot message " + std::to_string(i) + "\n";
    printed += "login: ";  // no newline: written at flush
    print(out, printed);
  }
  EXPECT_EQ(read_file(path), printed);
}

}  // namespace
}  // namespace vmrt::vmm
