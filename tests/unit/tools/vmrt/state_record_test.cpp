// The container record on disk: its JSON, field by field, and the errors
// that name the file and the field.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <climits>

#include "tests/support/error_text.h"
#include "tests/unit/tools/vmrt/state_test_support.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {
namespace {

using namespace state_test;
using nlohmann::json;
using test::error_text;
using ::testing::HasSubstr;

TEST(RecordJson, RoundTripsEveryField) {
  ContainerRecord r = sample("c1");
  r.keeper.start_time = UINT64_MAX;  // the whole range survives JSON
  r.vmm.pid = INT_MAX;
  r.init_pid = UINT32_MAX;
  json j = to_json(r);
  for (const char* key :
       {"id", "bundle", "rootfs", "oci_version", "status", "keeper", "vmm", "vm_socket",
        "console_log", "init_pid", "created", "annotations", "exit_status", "error"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(record_from_json(j, "state.json"), r);
  // Through text, as on disk.
  EXPECT_EQ(record_from_json(json::parse(j.dump()), "state.json"), r);

  for (Status s :
       {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped}) {
    r.status = s;
    EXPECT_EQ(record_from_json(to_json(r), "f").status, s);
  }
}

TEST(RecordJson, NoExitStatusIsNoKey) {
  ContainerRecord r = sample("c1");
  r.exit_status.reset();
  json j = to_json(r);
  EXPECT_FALSE(j.contains("exit_status"));
  EXPECT_FALSE(record_from_json(j, "f").exit_status.has_value());
  r.exit_status = 0;
  EXPECT_EQ(record_from_json(to_json(r), "f").exit_status, 0);
}

TEST(RecordJson, OnlyTheEssentialFieldsAreRequired) {
  json j = {{"id", "c1"},
            {"bundle", "/b"},
            {"status", "creating"},
            {"created", "2024-01-02T03:04:05Z"},
            {"exit_status", nullptr}};
  ContainerRecord r = record_from_json(j, "f");
  EXPECT_EQ(r.id, "c1");
  EXPECT_EQ(r.status, Status::Creating);
  EXPECT_EQ(r.keeper.pid, 0);
  EXPECT_TRUE(r.annotations.empty());
  EXPECT_FALSE(r.exit_status.has_value());
  for (const char* key : {"id", "bundle", "status", "created"}) {
    json missing = j;
    missing.erase(key);
    EXPECT_EQ(error_text([&] { record_from_json(missing, "/x/state.json"); }),
              fmt::format("/x/state.json: missing required field \"{}\"", key));
  }
}

TEST(RecordJson, ErrorsNameTheFileAndTheField) {
  json good = to_json(sample("c1"));
  auto error_with = [&](const char* key, json value) {
    json j = good;
    j[key] = std::move(value);
    return error_text([&] { record_from_json(j, "/x/state.json"); });
  };
  EXPECT_EQ(error_with("status", 3), "/x/state.json: status: expected a string, got number");
  EXPECT_EQ(error_with("status", "sleeping"), "/x/state.json: status: unknown status \"sleeping\"");
  EXPECT_EQ(error_with("init_pid", -1),
            "/x/state.json: init_pid: -1 is out of range (0 to 4294967295)");
  EXPECT_EQ(error_with("init_pid", 1.5),
            "/x/state.json: init_pid: expected an integer, got number");
  EXPECT_EQ(error_with("keeper", json{{"pid", 1}}),
            "/x/state.json: missing required field \"keeper.start_time\"");
  EXPECT_EQ(error_with("vmm", json{{"pid", "1"}, {"start_time", 2}}),
            "/x/state.json: vmm.pid: expected an integer, got string");
  EXPECT_EQ(error_with("vmm", json{{"pid", 1LL << 40}, {"start_time", 2}}),
            "/x/state.json: vmm.pid: 1099511627776 is out of range (-2147483648 to 2147483647)");
  EXPECT_EQ(error_with("keeper", "1234"), "/x/state.json: keeper: expected an object, got string");
  EXPECT_EQ(error_with("annotations", json{{"a", 1}}),
            "/x/state.json: annotations[\"a\"]: expected a string, got number");
  EXPECT_EQ(error_with("exit_status", true),
            "/x/state.json: exit_status: expected an integer, got boolean");
  EXPECT_EQ(error_with("bundle", "relative/path"),
            "/x/state.json: bundle: \"relative/path\" is not absolute");
  EXPECT_EQ(error_with("rootfs", "rootfs"), "/x/state.json: rootfs: \"rootfs\" is not absolute");
  EXPECT_THAT(error_with("id", "../etc"),
              HasSubstr("/x/state.json: id: invalid container ID \"../etc\""));
  EXPECT_EQ(error_text([] { record_from_json(json::array(), "/x/state.json"); }),
            "/x/state.json: top level: expected an object, got array");
}

}  // namespace
}  // namespace vmrt::cli
