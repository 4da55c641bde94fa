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
#include <functional>
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
  // At most this many SETLKW may wait at once (parked: no thread waits for
  // them); more get EDEADLK, as they do from a transport that cannot take
  // deferred replies.
  unsigned max_lock_waiters = 64;
  // At most this many files and directories open at once for the guest
  // (each holds a host descriptor until its RELEASE), lock descriptors (one
  // per lock owner and file, held until the owner's FLUSH) included. Past
  // it OPEN, OPENDIR and CREATE answer EMFILE, as a process at its
  // RLIMIT_NOFILE gets, and a new owner's lock ENOLCK, so a guest that
  // opens without releasing runs out of handles, not the server out of
  // descriptors for its own work.
  size_t max_open_handles = 65536;
};

class Passthrough;

class Server {
 public:
  // Bytes of request framing around a WRITE payload: the in header and
  // fuse_write_in. A transport buffer of max_write + kMaxHeaderBytes holds
  // every request the server accepts.
  static constexpr size_t kMaxHeaderBytes = 4096;
  // What handle() returns for a request whose reply comes later.
  static constexpr size_t kDeferred = SIZE_MAX;
  // Sends the reply of a deferred request: called once, from a thread of
  // the server's, with the whole reply (a fuse_out_header, no body).
  using Deferred = std::function<void(std::span<const std::byte> reply)>;

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
  // A SETLKW whose lock is held by another owner does not wait on the
  // calling thread: handle() returns kDeferred and `later` gets the reply
  // once the lock is taken or the wait ends (EINTR: an INTERRUPT, the
  // owner's FLUSH or RELEASE, a new session, stop()). Without `later` such
  // a SETLKW answers EDEADLK.
  //
  // Safe to call from several threads at once. The first call on a thread
  // gives that thread its own umask (0: the guest kernel has applied the
  // guest's already) by unsharing its filesystem attributes (CLONE_FS).
  size_t handle(std::span<const iovec> in, std::span<const iovec> out, const Deferred& later = {});

  // Ends the SETLKW waits (they answer EINTR) and makes new ones fail. Once
  // it returns no deferred reply is sent any more, so a transport can tear
  // down what its `later` callbacks use.
  void stop();

  const ServerConfig& config() const;
  // Inodes held (the root included) and open handles: for tests that check
  // FORGET and RELEASE give everything back.
  size_t inode_count() const;
  size_t handle_count() const;
  // Lock descriptors held and SETLKW waits parked.
  size_t lock_fd_count() const;
  size_t parked_lock_waits() const;

 private:
  std::unique_ptr<Passthrough> fs_;
};

}  // namespace vmrt::fuse
