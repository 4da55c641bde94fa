// vmrt's ttrpc against containerd's Go implementation: our client calling a
// Go server, and a Go client calling our server. The Go peer (main.go here)
// is built at test time from Debian's packages; without them the tests skip.
#include <google/protobuf/wrappers.pb.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "common/fd_io.h"
#include "common/process.h"
#include "common/tempdir.h"
#include "common/ttrpc/typed.h"

namespace vmrt::ttrpc {
namespace {

using namespace std::chrono_literals;
using google::protobuf::StringValue;

// Where golang-github-containerd-ttrpc-dev and its dependencies install
// their sources, for a GOPATH-mode build without network access.
constexpr const char* kDistroGopath = "/usr/share/gocode";
constexpr const char* kService = "vmrt.test.Echo";

StringValue text(const std::string& s) {
  StringValue v;
  v.set_value(s);
  return v;
}

class TtrpcInterop : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(std::filesystem::path(kDistroGopath) /
                                 "src/github.com/containerd/ttrpc/client.go"))
      GTEST_SKIP() << "containerd's Go ttrpc sources are not installed (Debian package "
                      "golang-github-containerd-ttrpc-dev)";
    SpawnOptions options;
    options.extra_env = {
        "GO111MODULE=off",
        "GOPATH=" + std::string(kDistroGopath) + ":" + (dir.path() / "gopath").string(),
        // Kept in the build tree so that later runs compile only main.go.
        "GOCACHE=" VMRT_GO_CACHE_DIR,
        "GOFLAGS=",
        "CGO_ENABLED=0",
    };
    RunResult built;
    try {
      built = run_capture({"go", "build", "-o", peer.string(), VMRT_TTRPC_INTEROP_SOURCE}, 300s,
                          options);
    } catch (const Error& e) {
      GTEST_SKIP() << "no Go toolchain (Debian package golang-go): " << e.what();
    }
    ASSERT_TRUE(built.status.success()) << "go build " << built.status.to_string() << "\n"
                                        << built.err;
  }

  TempDir dir{"ttrpc-interop"};
  std::filesystem::path peer = dir.path() / "interop";
  std::filesystem::path socket = dir.path() / "ttrpc.sock";
};

TEST_F(TtrpcInterop, OurClientAgainstGoServer) {
  SpawnOptions options;
  options.in = Stdio::pipe();
  options.out = Stdio::pipe();
  Subprocess go = Subprocess::spawn({peer.string(), "serve", socket.string()}, options);
  ASSERT_EQ(read_line(go.stdout_fd(), 100), "ready");

  auto client = Client::connect(socket.string());
  EXPECT_EQ(call_typed<StringValue>(*client, kService, "Echo", text("hello")).value(), "hello");
  std::string big(2 << 20, 'g');
  EXPECT_EQ(call_typed<StringValue>(*client, kService, "Echo", text(big)).value(), big);

  try {
    call_typed<StringValue>(*client, kService, "Fail", text("c1"));
    ADD_FAILURE() << "Fail succeeded";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::NotFound);
    EXPECT_EQ(e.message(), "no such container c1");
  }
  try {
    call_typed<StringValue>(*client, kService, "Nope", text(""));
    ADD_FAILURE() << "Nope succeeded";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::Unimplemented);
    EXPECT_EQ(e.message(), "method Nope");
  }

  CallOptions with_metadata{.timeout = 10s, .metadata = {{"x-vmrt", "v1"}}};
  EXPECT_EQ(call_typed<StringValue>(*client, kService, "Context", text(""), with_metadata).value(),
            "v1 deadline=true");
  EXPECT_EQ(call_typed<StringValue>(*client, kService, "Context", text("")).value(),
            " deadline=false");

  try {
    call_typed<StringValue>(*client, kService, "Sleep", text("2000"), {.timeout = 100ms});
    ADD_FAILURE() << "Sleep beat its deadline";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::DeadlineExceeded);
  }

  std::atomic<int> ok{0};
  {
    std::vector<std::jthread> threads;
    for (int t = 0; t < 8; ++t)
      threads.emplace_back([&, t] {
        for (int i = 0; i < 100; ++i) {
          std::string in = fmt::format("{}/{}", t, i);
          if (call_typed<StringValue>(*client, kService, "Echo", text(in)).value() == in) ++ok;
        }
      });
  }
  EXPECT_EQ(ok, 800);

  go.close_stdin();
  EXPECT_TRUE(go.wait().success());
  // The Go server is gone: the connection is, too.
  try {
    call_typed<StringValue>(*client, kService, "Echo", text("late"));
    ADD_FAILURE() << "a call after the server exited succeeded";
  } catch (const StatusError& e) {
    EXPECT_EQ(e.status_code(), Code::Unavailable);
  }
}

TEST_F(TtrpcInterop, GoClientAgainstOurServer) {
  Server server;
  add_typed_method<StringValue, StringValue>(
      server, kService, "Echo", [](const Context&, const StringValue& in) { return in; });
  add_typed_method<StringValue, StringValue>(
      server, kService, "Fail", [](const Context&, const StringValue& in) -> StringValue {
        fail_status(Code::NotFound, "no such container {}", in.value());
      });
  add_typed_method<StringValue, StringValue>(
      server, kService, "Context", [](const Context& c, const StringValue&) {
        return text(fmt::format("{} deadline={}", c.metadata_value("x-vmrt").value_or(""),
                                c.deadline.has_value()));
      });
  // Sleeps past the client's deadline on purpose: the Go client must give up
  // on its own.
  add_typed_method<StringValue, StringValue>(
      server, kService, "Sleep", [](const Context&, const StringValue& in) {
        std::this_thread::sleep_for(std::chrono::milliseconds(std::stoi(in.value())));
        return in;
      });
  server.listen(socket);

  RunResult r = run_capture({peer.string(), "call", socket.string()}, 60s);
  EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.err;
  EXPECT_EQ(r.out, "all calls answered as expected\n");
}

}  // namespace
}  // namespace vmrt::ttrpc
