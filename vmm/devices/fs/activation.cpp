#include "vmm/devices/fs/activation.h"

namespace vmrt::vmm::fs {

Activation direct_activation(const virtio::ActivateContext& ctx, int used) {
  Activation a;
  a.cmd.op = wire::Op::Activate;
  a.cmd.queue_count = static_cast<uint32_t>(ctx.queues.size());
  a.cmd.features = ctx.features;
  a.fds = {ctx.mem.fd(), used};
  for (size_t i = 0; i < ctx.queues.size(); ++i) {
    const virtio::Queue& q = ctx.queues[i];
    a.cmd.queues[i] = {q.desc_table(),
                       q.avail_ring(),
                       q.used_ring(),
                       q.size(),
                       static_cast<uint16_t>(q.ready()),
                       0};
    a.fds.push_back(ctx.queue_events[i]);
  }
  return a;
}

Activation relay_activation(const virtio::ActivateContext& ctx, const GuestMemory& bounce, int used,
                            const FsRelay& relay) {
  Activation a;
  a.cmd.op = wire::Op::Activate;
  a.cmd.queue_count = static_cast<uint32_t>(ctx.queues.size());
  // No ring feature: the relay posts plain two-descriptor chains and wants
  // a signal for every batch of replies.
  a.cmd.features = 0;
  a.fds = {bounce.fd(), used};
  for (size_t i = 0; i < ctx.queues.size(); ++i) {
    a.cmd.queues[i] = {ShadowQueue::desc_table(i),
                       ShadowQueue::avail_ring(i),
                       ShadowQueue::used_ring(i),
                       ShadowQueue::kSize,
                       static_cast<uint16_t>(ctx.queues[i].ready()),
                       0};
    a.fds.push_back(relay.kick(i));
  }
  return a;
}

}  // namespace vmrt::vmm::fs
