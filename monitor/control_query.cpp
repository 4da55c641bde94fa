#include "monitor/control_query.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common/error.h"
#include "common/unix_socket.h"
#include "monitor/deadline_io.h"

namespace vmrt::monitor {
namespace {

// One reply line; what came after it stays in `buffer`.
std::string receive_line(int fd, std::string& buffer, Clock::time_point deadline,
                         const std::string& what) {
  for (;;) {
    size_t nl = buffer.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return line;
    }
    if (buffer.size() > kMaxControlReply)
      fail("{}: a reply longer than {} bytes", what, kMaxControlReply);
    char chunk[8192];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      wait_for(fd, POLLIN, deadline, what);
      continue;
    }
    if (n < 0) throw_errno(what + ": receive");
    if (n == 0) fail("{}: closed without a reply", what);
    buffer.append(chunk, static_cast<size_t>(n));
  }
}

}  // namespace

std::vector<nlohmann::json> query_control(const std::filesystem::path& socket,
                                          const std::vector<nlohmann::json>& requests,
                                          std::chrono::milliseconds timeout) {
  const std::string what = "control socket " + socket.string();
  auto deadline = Clock::now() + timeout;
  UniqueFd fd = connect_unix_nonblocking(socket);
  std::vector<nlohmann::json> replies;
  std::string buffer;
  for (const auto& request : requests) {
    send_all(fd.get(), request.dump() + "\n", deadline, what);
    std::string line = receive_line(fd.get(), buffer, deadline, what);
    nlohmann::json reply = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!reply.is_object()) fail("{}: a reply that is not a JSON object", what);
    auto ok = reply.find("ok");
    if (ok == reply.end() || *ok != true) {
      auto err = reply.find("error");
      fail("{}: {} refused: {}", what, request.dump(),
           err != reply.end() && err->is_string() ? err->get<std::string>().substr(0, 200)
                                                  : "no reason given");
    }
    replies.push_back(std::move(reply));
  }
  return replies;
}

}  // namespace vmrt::monitor
