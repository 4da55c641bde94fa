#include "vmm/fuse/server.h"

#include <spdlog/spdlog.h>

#include "vmm/fuse/creds.h"
#include "vmm/fuse/passthrough.h"

namespace vmrt::fuse {

Server::Server(ServerConfig config) : fs_(std::make_unique<Passthrough>(std::move(config))) {}
Server::~Server() = default;

size_t Server::handle(std::span<const iovec> in, std::span<const iovec> out,
                      const Deferred& later) {
  prepare_thread();
  uint64_t unique;
  auto req = parse_request(in, unique);
  Reply reply(out, unique);
  if (!req) return reply.error(EINVAL);
  if (later) req->later = &later;
  try {
    return fs_->dispatch(*req, reply);
  } catch (const std::exception& e) {
    // Nothing a request does may take the transport down (an allocation
    // failure, say): the request fails instead.
    fs_->log_limit().error("fuse: opcode {} failed: {}", req->header.opcode, e.what());
    return reply.error(EIO);
  }
}

void Server::stop() { fs_->stop(); }
const ServerConfig& Server::config() const { return fs_->config(); }
size_t Server::inode_count() const { return fs_->inode_count(); }
size_t Server::handle_count() const { return fs_->handle_count(); }
size_t Server::lock_fd_count() const { return fs_->lock_fd_count(); }
size_t Server::parked_lock_waits() const { return fs_->parked_lock_waits(); }

}  // namespace vmrt::fuse
