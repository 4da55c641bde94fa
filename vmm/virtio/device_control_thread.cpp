#include "vmm/virtio/device_control_thread.h"

#include <pthread.h>

#include <utility>

namespace vmrt::vmm::virtio {

DeviceControlThread::DeviceControlThread(std::function<void()> prepare) {
  std::exception_ptr prepare_error;
  bool prepared = false;
  thread_ = std::thread([&, this] {
    pthread_setname_np(pthread_self(), "virtio-ctl");
    std::exception_ptr err;
    try {
      if (prepare) prepare();
    } catch (...) {
      err = std::current_exception();
    }
    {
      std::lock_guard lock(mu_);
      prepare_error = err;
      prepared = true;
    }
    cv_.notify_all();
    if (!err) loop();
  });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return prepared; });
  if (prepare_error) {
    lock.unlock();
    thread_.join();
    std::rethrow_exception(prepare_error);
  }
}

DeviceControlThread::~DeviceControlThread() {
  {
    std::lock_guard lock(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void DeviceControlThread::run(const std::function<void()>& job) {
  if (std::this_thread::get_id() == thread_.get_id()) {
    job();
    return;
  }
  std::lock_guard turn(turn_);
  std::unique_lock lock(mu_);
  job_ = &job;
  done_ = false;
  cv_.notify_all();
  cv_.wait(lock, [this] { return done_; });
  if (std::exception_ptr err = std::exchange(error_, nullptr)) std::rethrow_exception(err);
}

void DeviceControlThread::loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return quit_ || job_; });
    if (!job_) return;
    const std::function<void()>* job = std::exchange(job_, nullptr);
    lock.unlock();
    std::exception_ptr err;
    try {
      (*job)();
    } catch (...) {
      err = std::current_exception();
    }
    lock.lock();
    error_ = err;
    done_ = true;
    cv_.notify_all();
  }
}

}  // namespace vmrt::vmm::virtio
