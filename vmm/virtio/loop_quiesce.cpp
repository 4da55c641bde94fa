#include "vmm/virtio/loop_quiesce.h"

#include <sys/epoll.h>

#include <chrono>

#include "common/error.h"
#include "common/event_fd.h"

namespace vmrt::vmm::virtio {

namespace {
// A loop thread answers between two handlers; one that does not within this
// long has ended (an error stops a loop) or is stuck.
constexpr auto kAnswerTimeout = std::chrono::seconds(10);
}  // namespace

LoopQuiesce::LoopQuiesce(EventLoop& loop, Job job)
    : loop_(loop), job_(std::move(job)), fd_(make_eventfd("a device quiesce request")) {
  loop_.add(fd_.get(), EPOLLIN, [this](uint32_t) { on_request(); });
}

void LoopQuiesce::on_request() {
  drain_eventfd(fd_.get());
  std::vector<QueuePositions> result;
  std::exception_ptr error;
  try {
    result = job_();
    loop_.stop();  // after this handler: nothing touches the queues any more
  } catch (...) {
    error = std::current_exception();
  }
  std::lock_guard lock(mu_);
  result_ = std::move(result);
  error_ = error;
  done_ = true;
  cv_.notify_all();
}

std::vector<QueuePositions> LoopQuiesce::stop() {
  std::unique_lock lock(mu_);
  done_ = false;
  signal_eventfd(fd_.get());
  if (!cv_.wait_for(lock, kAnswerTimeout, [&] { return done_; }))
    fail("the device thread did not answer a quiesce request");
  if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  return std::move(result_);
}

}  // namespace vmrt::vmm::virtio
