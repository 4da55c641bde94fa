// INIT and DESTROY: protocol negotiation and the end of a session.
#include <spdlog/spdlog.h>

#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {
namespace {

// The oldest protocol minor served: kernels since 4.10 speak 7.26 or later,
// and older minors use shorter argument structures this server does not
// parse.
constexpr uint32_t kMinMinor = 26;

}  // namespace

size_t Passthrough::init(Request& req, Reply& reply) {
  fuse_init_in in;
  // Minors before 36 send only major, minor, max_readahead and flags.
  if (!req.read_prefix(in, offsetof(fuse_init_in, flags2))) return reply.error(EINVAL);
  fuse_init_out out{};
  out.major = FUSE_KERNEL_VERSION;
  out.minor = FUSE_KERNEL_MINOR_VERSION;
  if (in.major > FUSE_KERNEL_VERSION) {
    // The kernel retries INIT with our major when we answer with it alone.
    return reply.ok(&out, FUSE_COMPAT_INIT_OUT_SIZE);
  }
  if (in.major < FUSE_KERNEL_VERSION || in.minor < kMinMinor) {
    log_limit_.warn("fuse: client protocol {}.{} is too old", in.major, in.minor);
    return reply.error(EPROTO);
  }
  if (in.minor < out.minor) out.minor = in.minor;
  uint32_t want = FUSE_ASYNC_READ | FUSE_ATOMIC_O_TRUNC | FUSE_BIG_WRITES | FUSE_DO_READDIRPLUS |
                  FUSE_READDIRPLUS_AUTO | FUSE_ASYNC_DIO | FUSE_PARALLEL_DIROPS | FUSE_MAX_PAGES;
  if (config_.posix_locks) want |= FUSE_POSIX_LOCKS;
  if (config_.cache == CacheMode::kAuto) want |= FUSE_AUTO_INVAL_DATA;
  if (config_.cache == CacheMode::kAlways) want |= FUSE_CACHE_SYMLINKS;
  out.flags = in.flags & want;
  out.max_readahead = in.max_readahead;
  out.max_write = config_.max_write;
  out.max_pages = static_cast<uint16_t>(config_.max_write / 4096);
  out.max_background = 64;
  out.congestion_threshold = 48;
  out.time_gran = 1;
  // A new session (the guest mounted again) starts with a clean table.
  reset();
  initialized_ = true;
  SPDLOG_DEBUG("fuse: init {}.{} flags={:#x} max_write={}", out.major, out.minor, out.flags,
               out.max_write);
  return reply.ok(out);
}

size_t Passthrough::destroy(Request&, Reply& reply) {
  reset();
  initialized_ = false;
  return reply.ok();
}

}  // namespace vmrt::fuse
