#include "agent/init/fresh_start.h"

#include <fcntl.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <vector>

#include "common/error.h"
#include "common/fd.h"

namespace vmrt::agent {

void set_realtime_clock(int64_t realtime_ns) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(realtime_ns / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(realtime_ns % 1'000'000'000);
  check_sys(::clock_settime(CLOCK_REALTIME, &ts), "set the guest's clock");
}

void reseed_entropy(std::span<const uint8_t> bytes) {
  if (bytes.empty()) return;
  if (bytes.size() > kMaxEntropyBytes)
    fail("{} bytes of entropy: at most {} are taken", bytes.size(), kMaxEntropyBytes);
  // rand_pool_info ends in a flexible array: one buffer holds both.
  std::vector<uint8_t> buf(sizeof(rand_pool_info) + bytes.size());
  auto* info = reinterpret_cast<rand_pool_info*>(buf.data());
  info->entropy_count = static_cast<int>(bytes.size() * 8);
  info->buf_size = static_cast<int>(bytes.size());
  std::memcpy(buf.data() + sizeof(rand_pool_info), bytes.data(), bytes.size());
  UniqueFd fd(check_sys(::open("/dev/urandom", O_WRONLY | O_CLOEXEC), "open /dev/urandom"));
  check_sys(::ioctl(fd.get(), RNDADDENTROPY, info), "add the host's entropy (RNDADDENTROPY)");
  check_sys(::ioctl(fd.get(), RNDRESEEDCRNG), "reseed the CRNG (RNDRESEEDCRNG)");
}

}  // namespace vmrt::agent
