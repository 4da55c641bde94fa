#include "shim/fifo_log_sink.h"

#include <fcntl.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

namespace vmrt::shim {

void FifoLogSink::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t line;
  formatter_->format(msg, line);
  // Short writes and EAGAIN drop the rest: see the class comment.
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), line.data(), line.size());
}

void init_shim_logging(const std::filesystem::path& bundle, bool debug) {
  spdlog::sink_ptr sink;
  UniqueFd fd(::open((bundle / "log").c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
  if (fd)
    sink = std::make_shared<FifoLogSink>(std::move(fd));
  else
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("containerd-shim-vmrt-v1", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l vmrt-shim[%P]: %v");
  logger->set_level(debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace vmrt::shim
