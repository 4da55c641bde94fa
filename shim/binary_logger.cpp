#include "shim/binary_logger.h"

#include <fcntl.h>
#include <unistd.h>

#include "common/error.h"

namespace vmrt::shim {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decoding as Go's url package does it; `plus_is_space` for a query.
std::string decode(const std::string& uri, std::string_view s, bool plus_is_space) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      int hi = i + 1 < s.size() ? hex_digit(s[i + 1]) : -1;
      int lo = i + 2 < s.size() ? hex_digit(s[i + 2]) : -1;
      if (hi < 0 || lo < 0) fail("stdio {}: malformed percent-encoding", uri);
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else if (plus_is_space && s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::pair<UniqueFd, UniqueFd> pipe_pair() {
  int fds[2];
  check_sys(::pipe2(fds, O_CLOEXEC), "pipe for the logging binary");
  return {UniqueFd(fds[0]), UniqueFd(fds[1])};
}

}  // namespace

std::vector<std::string> binary_logger_argv(const std::string& uri) {
  constexpr std::string_view kScheme = "binary://";
  if (!uri.starts_with(kScheme)) fail("stdio {}: not a binary:// URI", uri);
  std::string_view rest = std::string_view(uri).substr(kScheme.size());
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // binary://HOST/PATH has a host before the path: containerd takes the path.
  if (auto slash = rest.find('/'); slash != std::string_view::npos)
    rest = rest.substr(slash);
  else
    rest = {};
  std::vector<std::string> argv{decode(uri, rest, false)};
  if (argv[0].empty()) fail("stdio {}: a binary:// URI needs the logging program's path", uri);
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    argv.push_back(decode(uri, pair.substr(0, eq), true));
    argv.push_back(eq == std::string_view::npos ? "" : decode(uri, pair.substr(eq + 1), true));
  }
  return argv;
}

BinaryLogger BinaryLogger::start(const std::string& uri, const std::string& container_id,
                                 const std::string& ns) {
  std::vector<std::string> argv = binary_logger_argv(uri);
  auto [out_r, out_w] = pipe_pair();
  auto [err_r, err_w] = pipe_pair();
  auto [ready_r, ready_w] = pipe_pair();
  SpawnOptions o;
  o.clean_env = true;
  o.extra_env = {"CONTAINER_ID=" + container_id, "CONTAINER_NAMESPACE=" + ns};
  o.extra_fds = {out_r.get(), err_r.get(), ready_w.get()};
  BinaryLogger logger(Subprocess::spawn(argv, o));
  ready_w.reset();
  // Ready: one byte, or fd 5 closed (end of file). A program that fails
  // first closes it too: then its status says what happened.
  char byte;
  ssize_t n;
  do n = ::read(ready_r.get(), &byte, 1);
  while (n < 0 && errno == EINTR);
  if (n < 0) throw_errno("read the ready pipe of logging binary " + argv[0]);
  if (auto status = logger.process_->wait_for(std::chrono::milliseconds(0));
      status && !status->success())
    fail("logging binary {} {} before it was ready", argv[0], status->to_string());
  logger.out = std::move(out_w);
  logger.err = std::move(err_w);
  return logger;
}

BinaryLogger::~BinaryLogger() {
  if (!process_) return;  // moved from
  out.reset();
  err.reset();
  process_->kill(SIGTERM);
  if (!process_->wait_for(kTermTimeout)) process_->kill(SIGKILL);
  // ~Subprocess reaps it.
}

}  // namespace vmrt::shim
