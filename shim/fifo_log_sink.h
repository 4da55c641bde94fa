#pragma once
// The shim's log goes to the `log` FIFO containerd opens in the bundle and
// copies into its own log. Writes never block: if containerd stops reading
// (it is restarting), lines are dropped rather than stalling task calls.

#include <spdlog/sinks/base_sink.h>

#include <filesystem>
#include <memory>
#include <mutex>

#include "common/fd.h"

namespace vmrt::shim {

class FifoLogSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit FifoLogSink(UniqueFd fd) : fd_(std::move(fd)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override {}

 private:
  UniqueFd fd_;
};

// Logging for the daemon: to BUNDLE/log when containerd provides it, else
// to stderr (which is /dev/null for a daemon started by `start`).
void init_shim_logging(const std::filesystem::path& bundle, bool debug);

}  // namespace vmrt::shim
