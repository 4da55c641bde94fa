// The devices' counters as the control socket's "counters" command shows
// them: every counter by name, FUSE requests by opcode name (only those
// seen), and only the devices the VM has.
#include "vmm/control/device_counters.h"

#include <gtest/gtest.h>
#include <linux/fuse.h>

namespace vmrt::vmm {
namespace {

TEST(DeviceCounters, VsockAndNetCountersByName) {
  vsock::VsockCounters v;
  v.streams_refused = 1;
  v.resets_sent = 2;
  v.resets_received = 3;
  v.credit_overruns = 4;
  nlohmann::json j = counters_json(v);
  EXPECT_EQ(j["streams_refused"], 1);
  EXPECT_EQ(j["resets_sent"], 2);
  EXPECT_EQ(j["resets_received"], 3);
  EXPECT_EQ(j["credit_overruns"], 4);
  EXPECT_EQ(j["control_dropped"], 0);
  net::NetCounters n;
  n.tx_dropped = 5;
  n.tx_bytes = 1500;
  n.rx_bytes = 60;
  EXPECT_EQ(counters_json(n)["tx_dropped"], 5);
  EXPECT_EQ(counters_json(n)["tx_bytes"], 1500);
  EXPECT_EQ(counters_json(n)["rx_bytes"], 60);
  EXPECT_EQ(counters_json(n).size(), 8u);
}

TEST(DeviceCounters, FsRequestsByOpcodeNameOnlyThoseSeen) {
  fs::FsCounters c;
  c.requests[FUSE_LOOKUP] = 7;
  c.requests[fs::FsCounters::slot(CUSE_INIT)] = 1;  // past the table: the last slot
  c.errors = 2;
  c.malformed = 1;
  nlohmann::json j = counters_json(c);
  EXPECT_EQ(j["requests"], (nlohmann::json{{"LOOKUP", 7}, {"OPCODE_63", 1}}));
  EXPECT_EQ(j["errors"], 2);
  EXPECT_EQ(j["malformed"], 1);
}

TEST(DeviceCounters, OnlyTheDevicesTheVmHas) {
  EXPECT_EQ(counters_json(DeviceCounterSources{}), nlohmann::json::object());
}

}  // namespace
}  // namespace vmrt::vmm
