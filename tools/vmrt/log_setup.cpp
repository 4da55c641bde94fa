#include "tools/vmrt/log_setup.h"

#include <fcntl.h>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "common/fd.h"
#include "common/fd_io.h"

namespace vmrt::cli {
namespace {

// One JSON object per line: {"level":"error","msg":"...","time":"..."}.
class JsonLineSink : public spdlog::sinks::base_sink<std::mutex> {
 public:
  explicit JsonLineSink(UniqueFd fd) : fd_(std::move(fd)) {}

 protected:
  void sink_it_(const spdlog::details::log_msg& m) override {
    auto secs = std::chrono::time_point_cast<std::chrono::seconds>(m.time);
    std::time_t t = std::chrono::system_clock::to_time_t(secs);
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    auto level = spdlog::level::to_string_view(m.level);
    nlohmann::json j = {{"level", std::string(level.data(), level.size())},
                        {"msg", std::string(m.payload.data(), m.payload.size())},
                        {"time", when}};
    std::string line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    try {
      write_all(fd_.get(), line);
    } catch (const Error&) {
      // Logging must never fail the command.
    }
  }
  void flush_() override {}

 private:
  UniqueFd fd_;
};

UniqueFd open_log(const std::string& path) {
  return UniqueFd(check_sys(::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600),
                            "open log file " + path));
}

void install(const Globals& g, const std::string& file) {
  spdlog::sink_ptr sink;
  if (g.log_format == "json") {
    sink = std::make_shared<JsonLineSink>(
        file.empty() ? UniqueFd(check_sys(::dup(STDERR_FILENO), "dup")) : open_log(file));
  } else if (file.empty()) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file);
  }
  auto logger = std::make_shared<spdlog::logger>("vmrt", sink);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e vmrt[%P] %l: %v");
  logger->set_level(g.debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

}  // namespace

void setup_logging(const Globals& g) {
  if (g.log_format != "text" && g.log_format != "json")
    fail("--log-format {}: must be text or json", g.log_format);
  install(g, g.log);
}

void redirect_log_for_keeper(const Globals& g, const std::filesystem::path& fallback) {
  install(g, g.log.empty() ? fallback.string() : g.log);
}

}  // namespace vmrt::cli
