#pragma once
// The thread on which virtio devices start and stop (activate(), reset()),
// instead of the vCPU thread whose register write asked for it. Starting a
// device opens the shared directory, creates epoll sets, eventfds, timers
// and the device's threads: none of which a vCPU thread's seccomp filter
// allows. And a thread inherits its creator's filter, so device threads
// made here get the device role's filter, never a vCPU's.

#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>

namespace vmrt::vmm::virtio {

class DeviceControlThread {
 public:
  // `prepare` runs first on the new thread (to confine it); what it throws
  // is thrown here.
  explicit DeviceControlThread(std::function<void()> prepare = {});
  ~DeviceControlThread();
  DeviceControlThread(const DeviceControlThread&) = delete;
  DeviceControlThread& operator=(const DeviceControlThread&) = delete;

  // Runs `job` on the thread and returns when it is done, rethrowing what it
  // threw. Callers take turns; on the thread itself `job` runs at once.
  void run(const std::function<void()>& job);

 private:
  void loop();

  std::mutex turn_;  // one caller's job at a time
  std::mutex mu_;
  std::condition_variable cv_;
  const std::function<void()>* job_ = nullptr;
  std::exception_ptr error_;
  bool done_ = false;
  bool quit_ = false;
  std::thread thread_;
};

}  // namespace vmrt::vmm::virtio
