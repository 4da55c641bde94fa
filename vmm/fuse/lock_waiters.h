#pragma once
// SETLKW requests parked until their lock can be taken. A lock wait never
// holds a request thread: the request is parked here and its reply sent
// later, out of order (virtio-fs lets used entries complete in any order,
// and so does /dev/fuse), while the transport goes on serving the unlock
// the wait depends on and every other request.
//
// One thread retries the parked locks with a non-blocking F_OFD_SETLK, in
// the order they were parked: at once when the guest released a lock (the
// server calls retry()), otherwise on a timer that backs off to
// kMaxRetryDelay, for holders outside the guest (host processes). The
// number of parked waits is bounded; each costs this entry and nothing else.

#include <fcntl.h>

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>

#include "common/fd.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {

struct LockWait {
  uint64_t unique = 0;           // the request's id: its reply and INTERRUPT name it
  uint64_t nodeid = 0;           // the lock owner's file and the owner: their FLUSH
  uint64_t owner = 0;            // or RELEASE ends the wait
  std::shared_ptr<UniqueFd> fd;  // the owner's lock descriptor
  struct flock lock {};
  Server::Deferred reply;
};

class LockWaiters {
 public:
  static constexpr auto kMaxRetryDelay = std::chrono::milliseconds(50);

  explicit LockWaiters(size_t max_waits) : max_(max_waits) {}
  ~LockWaiters() { stop(); }
  LockWaiters(const LockWaiters&) = delete;
  LockWaiters& operator=(const LockWaiters&) = delete;

  // Parks `wait`; its reply is sent once the lock is taken (success), the
  // lock cannot be had (the errno) or the wait is cancelled (EINTR).
  // Returns 0, or with nothing parked the errno to answer at once: EDEADLK
  // when max_waits are parked already or the server stopped, EINTR when an
  // INTERRUPT for the request came first.
  int park(LockWait wait);
  // Locks may have been released: retry the parked ones now.
  void retry();
  // Ends the wait of request `unique` with EINTR (an INTERRUPT). False when
  // no such wait is parked: it may not be parked yet (another request
  // thread is on its way), so the id is remembered and park() refuses it.
  bool interrupt(uint64_t unique);
  // Ends the waits of `owner` on `nodeid` (its locks there were dropped) or
  // all of them (a new session), with EINTR.
  void cancel(uint64_t nodeid, uint64_t owner);
  void cancel_all();
  // cancel_all() and refuse every later park(); joins the thread. Once it
  // returns no reply is sent any more.
  void stop();

  size_t size() const;

 private:
  void run();
  // Takes out the waits `pred` selects (under mu_).
  template <typename Pred>
  std::deque<LockWait> take_if(Pred&& pred);
  static void answer(LockWait& wait, int err);
  static void answer_all(std::deque<LockWait>& waits, int err);

  const size_t max_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<LockWait> waits_;
  bool kicked_ = false;
  bool stopped_ = false;
  // Ids of INTERRUPTs that found no parked wait, the last few.
  std::array<uint64_t, 16> early_interrupts_{};
  size_t next_early_ = 0;
  std::thread thread_;  // started by the first park()
};

}  // namespace vmrt::fuse
