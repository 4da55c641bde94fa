#pragma once
// A FUSE passthrough server for one host directory, independent of the
// transport: the virtio-fs device hands it the readable and writable
// segments of a descriptor chain, vmrt-fs-mount the buffers it reads from
// and writes to /dev/fuse.
//
// Every request is hostile input. Lengths, counts and names are checked; a
// malformed request gets an errno reply, never a crash, an over-read or a
// hang. Nothing outside the shared directory is ever read, written or
// created: files are held as O_PATH descriptors and names are resolved one
// component at a time relative to them, without following symlinks on the
// host; ".." at the root is the root.

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>

#include "vmm/fuse/cache_mode.h"

namespace vmrt::fuse {

struct ServerConfig {
  std::filesystem::path shared_dir;
  CacheMode cache = CacheMode::kAuto;
  // Largest READ or WRITE payload (negotiated at INIT as max_write and
  // max_pages), rounded down to whole pages within 4 KiB..1 MiB: config()
  // shows the value in force. The transport's buffers must hold it plus
  // kMaxHeaderBytes; a virtio-fs device sizes it to what one descriptor
  // chain of its queue can carry.
  uint32_t max_write = 1u << 20;
  // Offer POSIX locks (GETLK/SETLK/SETLKW) to the kernel; otherwise the
  // guest kernel keeps locks to itself, which is right when only it uses
  // the tree.
  bool posix_locks = true;
  // At most this many SETLKW may wait at once; more get EDEADLK rather than
  // tying up every request thread (the unlock that would free them could
  // then never be served).
  unsigned max_lock_waiters = 4;
  // At most this many files and directories open at once for the guest
  // (each holds a host descriptor until its RELEASE). Past it OPEN, OPENDIR
  // and CREATE answer EMFILE, as a process at its RLIMIT_NOFILE gets, so a
  // guest that opens without releasing runs out of handles, not the server
  // out of descriptors for its own work.
  size_t max_open_handles = 65536;
};

class Passthrough;

class Server {
 public:
  // Bytes of request framing around a WRITE payload: the in header and
  // fuse_write_in. A transport buffer of max_write + kMaxHeaderBytes holds
  // every request the server accepts.
  static constexpr size_t kMaxHeaderBytes = 4096;

  // Opens the shared directory. Throws vmrt::Error when it cannot.
  explicit Server(ServerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Serves one request: `in` holds the request (fuse_in_header, arguments,
  // data, split at any byte), the reply goes into `out`. Returns the bytes
  // of reply written to `out`: 0 when the request takes no reply (FORGET,
  // BATCH_FORGET) or when `out` cannot hold even a reply header (requests
  // on the virtio-fs hiprio queue come without writable buffers). READ data
  // is read straight into `out` and WRITE data written straight from `in`.
  //
  // Safe to call from several threads at once. The first call on a thread
  // gives that thread its own umask (0: the guest kernel has applied the
  // guest's already) by unsharing its filesystem attributes (CLONE_FS).
  size_t handle(std::span<const iovec> in, std::span<const iovec> out);

  // Ends waits in SETLKW (they answer EINTR) and makes new ones fail, so a
  // transport can stop its threads.
  void stop();

  const ServerConfig& config() const;
  // Inodes held (the root included) and open handles: for tests that check
  // FORGET and RELEASE give everything back.
  size_t inode_count() const;
  size_t handle_count() const;

 private:
  std::unique_ptr<Passthrough> fs_;
};

}  // namespace vmrt::fuse
