#include "vmm/virtio/mmio_transport_state.h"

#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>

#include "common/error.h"
#include "common/json_fields.h"

namespace vmrt::vmm::virtio {

namespace {

using nlohmann::json;

constexpr uint32_t kKnownStatus = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
                                  VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK |
                                  VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED;
constexpr uint32_t kInterruptBits = VIRTIO_MMIO_INT_VRING | VIRTIO_MMIO_INT_CONFIG;
// Keys a queue the driver did not enable must not have.
constexpr const char* kReadyOnlyKeys[] = {"desc_table",     "avail_ring", "used_ring",
                                          "next_avail",     "next_used",  "signalled_used",
                                          "signalled_valid"};

bool power_of_two(uint32_t v) { return v != 0 && (v & (v - 1)) == 0; }

void check_status(const std::string& who, uint32_t st) {
  if (st & ~kKnownStatus) fail("{}: status {:#x} has unknown bits", who, st);
  if (st & VIRTIO_CONFIG_S_NEEDS_RESET) fail("{}: status {:#x} says it needs reset", who, st);
  if (st & VIRTIO_CONFIG_S_FAILED) fail("{}: status {:#x} says its driver gave up", who, st);
  // Each step of initialization (virtio 1.x, 3.1.1) needs the ones before.
  auto needs = [&](uint32_t bit, uint32_t before, const char* what) {
    if ((st & bit) && !(st & before))
      fail("{}: status {:#x} has {} without the steps before", who, st, what);
  };
  needs(VIRTIO_CONFIG_S_DRIVER, VIRTIO_CONFIG_S_ACKNOWLEDGE, "DRIVER");
  needs(VIRTIO_CONFIG_S_FEATURES_OK, VIRTIO_CONFIG_S_DRIVER, "FEATURES_OK");
  needs(VIRTIO_CONFIG_S_DRIVER_OK, VIRTIO_CONFIG_S_FEATURES_OK, "DRIVER_OK");
}

QueueState parse_queue(const json& j, const std::string& source, size_t index, uint16_t max,
                       bool activated, bool resumes_positions) {
  std::string path = fmt::format("queues[{}]", index);
  json_fields::Reader r(j, path, source);
  QueueState q;
  r.required("size", q.size);
  r.required("ready", q.ready);
  if (!power_of_two(q.size) || q.size > max)
    fail("{}: {}: size {} is not a power of two in 1..{}", source, path, q.size, max);
  if (!q.ready) {
    for (const char* key : kReadyOnlyKeys)
      if (j.contains(key)) fail("{}: {}: \"{}\" for a queue that is not ready", source, path, key);
    return q;
  }
  if (!activated) fail("{}: {}: ready although the driver has not set DRIVER_OK", source, path);
  r.required("desc_table", q.desc_table);
  r.required("avail_ring", q.avail_ring);
  r.required("used_ring", q.used_ring);
  r.required("next_avail", q.positions.next_avail);
  r.required("next_used", q.positions.next_used);
  r.required("signalled_used", q.positions.signalled_used);
  r.required("signalled_valid", q.positions.signalled_valid);
  // The alignment virtio 1.x (2.7) requires; Queue::activate checks it again
  // along with guest RAM.
  if (q.desc_table % 16 || q.avail_ring % 2 || q.used_ring % 4)
    fail("{}: {}: rings at {:#x}, {:#x}, {:#x} are misaligned", source, path, q.desc_table,
         q.avail_ring, q.used_ring);
  const QueuePositions& p = q.positions;
  if (p.next_avail != p.next_used)
    fail("{}: {}: {} chains in flight (next avail {}, next used {})", source, path,
         static_cast<uint16_t>(p.next_avail - p.next_used), p.next_avail, p.next_used);
  if (!resumes_positions && (p.next_avail != 0 || p.signalled_used != 0 || p.signalled_valid))
    fail("{}: {}: at position {}, but this device serves its queues from the ring's start only",
         source, path, p.next_avail);
  return q;
}

}  // namespace

std::string device_name(uint32_t device_type) {
  switch (device_type) {
    case VIRTIO_ID_NET:
      return "virtio-net";
    case VIRTIO_ID_VSOCK:
      return "virtio-vsock";
    case VIRTIO_ID_FS:
      return "virtio-fs";
    case VIRTIO_ID_MEM:
      return "virtio-mem";
    default:
      return fmt::format("virtio device {}", device_type);
  }
}

json transport_state_to_json(const TransportState& s) {
  json queues = json::array();
  for (const QueueState& q : s.queues) {
    json e = {{"size", q.size}, {"ready", q.ready}};
    if (q.ready) {
      e["desc_table"] = q.desc_table;
      e["avail_ring"] = q.avail_ring;
      e["used_ring"] = q.used_ring;
      e["next_avail"] = q.positions.next_avail;
      e["next_used"] = q.positions.next_used;
      e["signalled_used"] = q.positions.signalled_used;
      e["signalled_valid"] = q.positions.signalled_valid;
    }
    queues.push_back(std::move(e));
  }
  return {{"device_type", s.device_type},
          {"status", s.status},
          {"device_features_sel", s.device_features_sel},
          {"driver_features_sel", s.driver_features_sel},
          {"driver_features", s.driver_features},
          {"queue_sel", s.queue_sel},
          {"interrupt_status", s.interrupt_status},
          {"config_generation", s.config_generation},
          {"activated", s.activated},
          {"queues", std::move(queues)},
          {"device", s.device}};
}

TransportState parse_transport_state(const json& j, const VirtioDevice& device) {
  const uint32_t type = device.device_type();
  const std::string source = fmt::format("{} state", device_name(type));
  json_fields::Reader r(j, "", source);
  TransportState s;
  r.required("device_type", s.device_type);
  if (s.device_type != type)
    fail("{}: the snapshot has a {} here", source, device_name(s.device_type));
  r.required("status", s.status);
  r.required("device_features_sel", s.device_features_sel);
  r.required("driver_features_sel", s.driver_features_sel);
  r.required("driver_features", s.driver_features);
  r.required("queue_sel", s.queue_sel);
  r.required("interrupt_status", s.interrupt_status);
  r.required("config_generation", s.config_generation);
  r.required("activated", s.activated);

  check_status(source, s.status);
  if (s.activated != bool(s.status & VIRTIO_CONFIG_S_DRIVER_OK))
    fail("{}: activated is {} with status {:#x}", source, s.activated, s.status);
  uint64_t offered = device.device_features() | kTransportFeatures;
  if (s.driver_features & ~offered)
    fail("{}: driver features {:#x} include {:#x}, which the device does not offer", source,
         s.driver_features, s.driver_features & ~offered);
  if ((s.status & VIRTIO_CONFIG_S_FEATURES_OK) &&
      !(s.driver_features & (1ull << VIRTIO_F_VERSION_1)))
    fail("{}: features accepted without VIRTIO_F_VERSION_1", source);
  if (s.interrupt_status & ~kInterruptBits)
    fail("{}: interrupt status {:#x} has unknown bits", source, s.interrupt_status);

  if (!j.contains("queues") || !j.at("queues").is_array())
    fail("{}: \"queues\" must be an array", source);
  const json& queues = j.at("queues");
  std::vector<uint16_t> max = device.queue_max_sizes();
  if (queues.size() != max.size())
    fail("{}: the snapshot has {} queues, this device has {}", source, queues.size(), max.size());
  for (size_t i = 0; i < max.size(); ++i)
    s.queues.push_back(
        parse_queue(queues[i], source, i, max[i], s.activated, device.resumes_queue_positions()));
  if (j.contains("device")) s.device = j.at("device");
  return s;
}

}  // namespace vmrt::vmm::virtio
