#include "vmm/devices/mem/mem_worker.h"

#include <endian.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>

#include "common/error.h"
#include "common/event_fd.h"
#include "vmm/devices/mem/mem_requests.h"
#include "vmm/devices/mem/mem_wire.h"
#include "vmm/virtio/chain_io.h"

namespace vmrt::vmm::mem {

namespace {
// Requests per wake-up, so that a guest that never stops asking cannot
// keep the loop from seeing a stop request.
constexpr int kBatch = 64;
}  // namespace

MemWorker::MemWorker(virtio::ActivateContext context, HotplugRegion& region, MemConfigState& state,
                     MemCounters& counters)
    : ctx_(std::move(context)), region_(region), state_(state), counters_(counters) {
  loop_.add(ctx_.queue_events.at(0), EPOLLIN,
            [this](uint32_t) { drain_eventfd(ctx_.queue_events[0]); });
  quiesce_.emplace(loop_, [this] {
    if (uint64_t plugged = region_.plugged_bytes())
      fail(
          "virtio-mem: {} MiB are plugged, and a snapshot holds only boot RAM; set the "
          "requested size to 0 and let the guest unplug first",
          plugged >> 20);
    return std::vector<virtio::QueuePositions>{ctx_.queues[0].positions()};
  });
  // The driver may have posted requests before the thread existed.
  loop_.start([this] { return service() ? 0 : -1; });
}

MemWorker::~MemWorker() { loop_.stop_and_join(); }

virtio::ActivateContext MemWorker::take_context() && {
  loop_.stop_and_join();
  return std::move(ctx_);
}

void MemWorker::answer(const virtio::DescriptorChain& chain) {
  virtio::Queue& q = ctx_.queues[0];
  ParsedRequest parsed = read_request(chain);
  if (!parsed.error.empty()) {
    ++counters_.malformed;
    SPDLOG_DEBUG("virtio-mem: dropped a request: {}", parsed.error);
    q.add_used(chain.head, 0);
    return;
  }
  virtio_mem_resp resp{};
  {
    std::lock_guard lock(state_.mu);
    uint64_t before = region_.plugged_blocks();
    try {
      resp = handle_request(parsed.req, region_, state_.requested, counters_);
    } catch (const Error& e) {
      // The host could not change its mappings: nothing the guest did.
      SPDLOG_ERROR("virtio-mem: {}", e.what());
      ++counters_.errors;
      resp.type = htole16(VIRTIO_MEM_RESP_ERROR);
    }
    if (region_.plugged_blocks() != before) ++state_.generation;
  }
  virtio::copy_to_segments(chain.writable, 0,
                           {reinterpret_cast<const uint8_t*>(&resp), kResponseSize});
  q.add_used(chain.head, kResponseSize);
}

bool MemWorker::service() {
  if (needs_reset_) return false;
  virtio::Queue& q = ctx_.queues[0];
  bool used = false, more = false;
  try {
    for (int done = 0;; ++done) {
      if (done == kBatch) {
        more = true;
        break;
      }
      auto chain = q.pop_or_rearm();
      if (!chain) break;
      answer(*chain);
      used = true;
    }
  } catch (const virtio::QueueError& e) {
    needs_reset_ = true;
    ctx_.needs_reset(e.what());
    return false;
  }
  if (used && q.needs_interrupt()) ctx_.interrupt.signal_used();
  return more;
}

}  // namespace vmrt::vmm::mem
