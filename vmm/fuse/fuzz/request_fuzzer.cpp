// libFuzzer target: the FUSE server's request parsing and every operation's
// argument handling. Each input is one request, split into segments at
// input-chosen points (each its own allocation, so AddressSanitizer catches
// a read past any one), answered into a reply buffer of input-chosen size
// and split. The server keeps its state between inputs, over a small tree
// in a temporary directory, so node ids and handles from earlier inputs are
// live. A reply must fit its buffer and its header must state its length.
#include <fcntl.h>
#include <linux/fuse.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <fstream>
#include <memory>
#include <vector>

#include "common/tempdir.h"
#include "vmm/fuse/server.h"

using namespace vmrt;

namespace {

struct State {
  TempDir dir{"fuse-fuzz"};
  std::unique_ptr<fuse::Server> server;

  State() {
    std::filesystem::create_directory(dir.path() / "d");
    std::ofstream(dir.path() / "d/f") << "data";
    std::filesystem::create_symlink("../..", dir.path() / "up");
    mkfifo((dir.path() / "p").c_str(), 0600);
    fuse::ServerConfig config{dir.path()};
    config.max_write = 64 * 1024;
    // Inputs open without releasing, input after input: without a bound the
    // fuzzer itself ran out of descriptors after about a million inputs.
    config.max_open_handles = 256;
    server = std::make_unique<fuse::Server>(config);
    fuse_in_header h{};
    fuse_init_in in{};
    h.len = sizeof h + sizeof in;
    h.opcode = FUSE_INIT;
    in.major = FUSE_KERNEL_VERSION;
    in.minor = FUSE_KERNEL_MINOR_VERSION;
    in.flags = ~0u;
    char req[sizeof h + sizeof in], out[4096];
    std::memcpy(req, &h, sizeof h);
    std::memcpy(req + sizeof h, &in, sizeof in);
    iovec iv{req, sizeof req}, ov{out, sizeof out};
    server->handle({&iv, 1}, {&ov, 1});
  }
};

// Cuts `data` into separately allocated segments of lengths derived from
// `seed`.
std::vector<std::vector<uint8_t>> segments(const uint8_t* data, size_t size, uint8_t seed) {
  std::vector<std::vector<uint8_t>> out;
  size_t step = 1 + seed % 53;
  for (size_t pos = 0; pos < size;) {
    size_t n = std::min(step, size - pos);
    out.emplace_back(data + pos, data + pos + n);
    pos += n;
    step = step * 7 % 97 + 1;
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static State state;
  if (size < 4) return 0;
  uint8_t in_seed = data[0], out_seed = data[1];
  size_t out_size = (static_cast<size_t>(data[2]) << 8 | data[3]) % 70000;
  data += 4;
  size -= 4;
  std::vector<uint8_t> request(data, data + size);
  if (size >= sizeof(fuse_in_header)) {
    fuse_in_header h;
    std::memcpy(&h, data, sizeof h);
    // Mostly a consistent length, so that inputs reach the operations; the
    // raw length otherwise, for the header checks.
    if (in_seed & 0x80) {
      h.len = static_cast<uint32_t>(size);
      h.total_extlen = 0;
      std::memcpy(request.data(), &h, sizeof h);
    }
    // Real block allocation would fill the disk; INIT/DESTROY would reset the
    // state the fuzzer builds on.
    if (h.opcode == FUSE_FALLOCATE || h.opcode == FUSE_DESTROY || h.opcode == FUSE_INIT) return 0;
  }
  auto in = segments(request.data(), request.size(), in_seed);
  std::vector<iovec> in_iov;
  for (auto& s : in) in_iov.push_back({s.data(), s.size()});
  std::vector<uint8_t> reply(out_size);
  auto out = segments(reply.data(), reply.size(), out_seed);
  std::vector<iovec> out_iov;
  for (auto& s : out) out_iov.push_back({s.data(), s.size()});

  size_t n = state.server->handle(in_iov, out_iov);
  if (n > out_size) __builtin_trap();  // wrote past the buffers
  if (n > 0) {
    // Gather the header back from the segments.
    std::vector<uint8_t> flat;
    for (auto& s : out) flat.insert(flat.end(), s.begin(), s.end());
    fuse_out_header h;
    if (n < sizeof h) __builtin_trap();
    std::memcpy(&h, flat.data(), sizeof h);
    if (h.len != n || h.error > 0 || h.error < -4095) __builtin_trap();
  }
  return 0;
}
