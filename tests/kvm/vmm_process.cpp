#include "tests/kvm/vmm_process.h"

#include <unistd.h>

#include <fstream>
#include <sstream>
#include <vector>

#include "common/fd.h"
#include "common/fd_io.h"
#include "common/unix_socket.h"
#include "tests/kvm/payload.h"
#include "tests/unit/vmm/boot/boot_images.h"

namespace vmrt::vmm::test {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_ready_payload(const std::filesystem::path& path) {
  ElfBuilder elf;
  elf.segments[0].data = long_mode_print_and_halt("ready\n");
  std::vector<uint8_t> image = elf.build();
  std::ofstream(path, std::ios::binary)
      .write(reinterpret_cast<const char*>(image.data()),
             static_cast<std::streamsize>(image.size()));
}

std::string control(const std::filesystem::path& socket, const std::string& request) {
  UniqueFd c = connect_unix(socket);
  write_all(c.get(), request + "\n");
  std::string reply;
  char buf[512];
  for (ssize_t n;
       reply.find('\n') == std::string::npos && (n = read(c.get(), buf, sizeof buf)) > 0;)
    reply.append(buf, static_cast<size_t>(n));
  return reply;
}

}  // namespace vmrt::vmm::test
