#include "common/ttrpc/typed.h"

#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include "common/tempdir.h"

namespace vmrt::ttrpc {
namespace {

using google::protobuf::Int64Value;
using google::protobuf::StringValue;

TEST(TtrpcTyped, MessagesInAndOut) {
  TempDir dir{"ttrpc-typed"};
  Server server;
  add_typed_method<StringValue, Int64Value>(
      server, "vmrt.test.Typed", "Length", [](const Context&, const StringValue& in) {
        Int64Value out;
        out.set_value(static_cast<int64_t>(in.value().size()));
        return out;
      });
  server.listen(dir.path() / "s");
  auto client = Client::connect((dir.path() / "s").string());

  StringValue in;
  in.set_value("twelve bytes");
  Int64Value out = call_typed<Int64Value>(*client, "vmrt.test.Typed", "Length", in);
  EXPECT_EQ(out.value(), 12);

  // A payload that is not a StringValue: field 1 with wire type 0.
  try {
    client->call("vmrt.test.Typed", "Length", std::string("\x0a\x05", 2));
    FAIL();
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::Internal);
    EXPECT_NE(e.message().find("google.protobuf.StringValue"), std::string::npos) << e.message();
  }
}

TEST(TtrpcTyped, StatusCodeNames) {
  EXPECT_EQ(code_name(Code::Ok), "OK");
  EXPECT_EQ(code_name(Code::DeadlineExceeded), "DEADLINE_EXCEEDED");
  EXPECT_EQ(code_name(Code::Unauthenticated), "UNAUTHENTICATED");
  EXPECT_EQ(code_name(static_cast<Code>(42)), "CODE(42)");
  EXPECT_EQ(static_cast<int>(Code::Unimplemented), 12);
  EXPECT_EQ(static_cast<int>(Code::Unavailable), 14);
}

}  // namespace
}  // namespace vmrt::ttrpc
