#include "sandbox/vmm_control.h"

#include <poll.h>
#include <unistd.h>

#include "common/error.h"
#include "common/unix_socket.h"

namespace vmrt::sandbox {

nlohmann::json vmm_control(const std::filesystem::path& socket, const nlohmann::json& request,
                           std::chrono::milliseconds timeout) {
  UniqueFd fd = connect_unix(socket);
  std::string line = request.dump() + "\n";
  for (size_t done = 0; done < line.size();) {
    ssize_t n = ::write(fd.get(), line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw_errno("send to " + socket.string());
    done += static_cast<size_t>(n);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string reply;
  while (reply.find('\n') == std::string::npos) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    pollfd p{fd.get(), POLLIN, 0};
    int r = left.count() > 0 ? ::poll(&p, 1, static_cast<int>(left.count())) : 0;
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0)
      fail("vmrt-vmm control {}: no reply to {} within {} ms", socket.string(), request.dump(),
           timeout.count());
    char buf[4096];
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("vmrt-vmm control {}: closed without a reply", socket.string());
    reply.append(buf, static_cast<size_t>(n));
  }
  nlohmann::json j =
      nlohmann::json::parse(reply.substr(0, reply.find('\n')), nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) fail("vmrt-vmm control {}: a malformed reply", socket.string());
  if (!j.value("ok", false))
    fail("vmrt-vmm: {}", j.contains("error") && j["error"].is_string()
                             ? j["error"].get<std::string>()
                             : std::string("the request failed"));
  return j;
}

}  // namespace vmrt::sandbox
