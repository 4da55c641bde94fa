// POSIX locks through Server::handle: conflicts between owners, and SETLKW
// waits that are parked rather than held on the request thread. Each test
// drives the server from one thread, as one virtio-fs request queue does:
// a wait that blocked that thread would hang the test.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "common/fd.h"
#include "common/tempdir.h"
#include "tests/unit/vmm/fuse/fuse_client.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {
namespace {

using test::Client;
using test::DeferredReplies;
using test::RequestBuilder;
using test::Response;

struct Created {
  fuse_entry_out entry;
  fuse_open_out open;
};

struct FuseLocks : ::testing::Test {
  TempDir dir{"fuse-locks"};
  DeferredReplies later;
  std::unique_ptr<Server> server;
  std::unique_ptr<Client> client;

  void SetUp() override { start(ServerConfig{dir.path()}); }
  void TearDown() override {
    if (server) server->stop();  // no reply after the test's state is gone
  }
  void start(ServerConfig config) {
    if (server) server->stop();
    server = std::make_unique<Server>(config);
    client = std::make_unique<Client>(*server);
    client->defer_to(later);
    ASSERT_EQ(client->init().error(), 0);
  }
  Created create(const std::string& name) {
    auto r = client->create(FUSE_ROOT_ID, name, O_RDWR, 0640);
    EXPECT_EQ(r.error(), 0) << name;
    return r.as<Created>();
  }
  RequestBuilder lk_request(uint32_t op, const Created& f, uint64_t owner, uint32_t type,
                            uint64_t start = 0, uint64_t end = INT64_MAX) {
    fuse_lk_in in{};
    in.fh = f.open.fh;
    in.owner = owner;
    in.lk = {start, end, type, 0};
    return RequestBuilder(op, f.entry.nodeid).arg(in);
  }
  Response lk(uint32_t op, const Created& f, uint64_t owner, uint32_t type, uint64_t start = 0,
              uint64_t end = INT64_MAX) {
    return client->send(lk_request(op, f, owner, type, start, end));
  }
  // Sends a SETLKW that must wait; returns its request id.
  uint64_t park(const Created& f, uint64_t owner, uint32_t type = F_WRLCK) {
    auto b = lk_request(FUSE_SETLKW, f, owner, type);
    Response r = client->send(b);
    EXPECT_EQ(r.written, Server::kDeferred) << "not parked: error " << r.error();
    return b.header().unique;
  }
  int flush(const Created& f, uint64_t owner) {
    fuse_flush_in in{};
    in.fh = f.open.fh;
    in.lock_owner = owner;
    return client->send(RequestBuilder(FUSE_FLUSH, f.entry.nodeid).arg(in)).error();
  }
  // The deferred reply's errno (-1: none came).
  int deferred_error(uint64_t unique) {
    auto r = later.wait(unique);
    return r ? r->error() : -1;
  }
};

TEST_F(FuseLocks, ConflictBetweenOwnersOnly) {
  auto f = create("f");
  EXPECT_EQ(lk(FUSE_SETLK, f, 1, F_WRLCK, 0, 99).error(), 0);
  EXPECT_EQ(lk(FUSE_SETLK, f, 1, F_WRLCK, 50, 150).error(), 0)
      << "an owner never conflicts with itself";
  EXPECT_EQ(lk(FUSE_SETLK, f, 2, F_RDLCK, 120, 130).error(), EAGAIN);
  auto got = lk(FUSE_GETLK, f, 2, F_RDLCK).as<fuse_lk_out>();
  EXPECT_EQ(got.lk.type, uint32_t{F_WRLCK});
  EXPECT_EQ(got.lk.start, 0u);
  EXPECT_EQ(got.lk.end, 150u);
  EXPECT_EQ(lk(FUSE_SETLK, f, 2, F_RDLCK, 200, INT64_MAX).error(), 0);
  EXPECT_EQ(lk(FUSE_SETLK, f, 1, 77, 0, 1).error(), EINVAL);
  EXPECT_EQ(lk(FUSE_SETLK, f, 3, F_UNLCK).error(), 0) << "an owner without locks";
  EXPECT_EQ(lk(FUSE_GETLK, f, 3, F_UNLCK).error(), EINVAL);
  EXPECT_EQ(lk(FUSE_SETLK, f, 1, F_RDLCK, 10, 5).error(), EINVAL);
  // A host process sees the guest's locks.
  int fd = ::open((dir.path() / "f").c_str(), O_RDWR);
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  EXPECT_EQ(fcntl(fd, F_OFD_SETLK, &fl), -1);
  close(fd);
}

TEST_F(FuseLocks, SetlkwIsParkedWhileOtherRequestsAreServedAndGetsTheLockAtTheUnlock) {
  auto a = create("locked");
  auto other = create("other");
  ASSERT_EQ(lk(FUSE_SETLK, a, 1, F_WRLCK).error(), 0);  // A holds the lock
  uint64_t b = park(a, 2);                              // B waits for it
  EXPECT_EQ(server->parked_lock_waits(), 1u);
  // C goes on reading and writing on the same (only) request thread.
  for (int i = 0; i < 100; ++i) {
    std::string data = "record " + std::to_string(i);
    ASSERT_EQ(client->write(other.entry.nodeid, other.open.fh, 0, data).error(), 0);
    ASSERT_EQ(client->read(other.entry.nodeid, other.open.fh, 0, 64).body, data);
  }
  EXPECT_FALSE(later.has(b)) << "B got an answer while A still holds the lock";
  ASSERT_EQ(lk(FUSE_SETLK, a, 1, F_UNLCK).error(), 0);  // A unlocks
  EXPECT_EQ(deferred_error(b), 0) << "B was not given the lock";
  EXPECT_EQ(server->parked_lock_waits(), 0u);
  EXPECT_EQ(lk(FUSE_SETLK, a, 3, F_RDLCK).error(), EAGAIN) << "B holds it now";
  EXPECT_EQ(later.count(b), 1);
}

TEST_F(FuseLocks, ParkedWaitsAreBoundedAndEndedByInterruptFlushAndStop) {
  ServerConfig config{dir.path()};
  config.max_lock_waiters = 3;
  start(config);
  auto f = create("f");
  ASSERT_EQ(lk(FUSE_SETLK, f, 1, F_WRLCK).error(), 0);
  uint64_t w1 = park(f, 11), w2 = park(f, 12), w3 = park(f, 13);
  EXPECT_EQ(lk(FUSE_SETLKW, f, 14, F_WRLCK).error(), EDEADLK) << "a fourth waiter past the bound";
  // INTERRUPT names the request; it takes no reply of its own.
  fuse_interrupt_in intr{w1};
  EXPECT_EQ(client->send(RequestBuilder(FUSE_INTERRUPT, 0).arg(intr)).written, 0u);
  EXPECT_EQ(deferred_error(w1), EINTR);
  // The owner's FLUSH (a close() in the guest) drops its locks and its wait.
  EXPECT_EQ(flush(f, 12), 0);
  EXPECT_EQ(deferred_error(w2), EINTR);
  EXPECT_EQ(server->parked_lock_waits(), 1u);
  uint64_t w4 = park(f, 14);  // room again
  server->stop();
  EXPECT_EQ(deferred_error(w3), EINTR);
  EXPECT_EQ(deferred_error(w4), EINTR);
  EXPECT_EQ(lk(FUSE_SETLKW, f, 15, F_WRLCK).error(), EDEADLK) << "no parking after stop()";
  for (uint64_t w : {w1, w2, w3, w4}) EXPECT_EQ(later.count(w), 1) << "one reply per request";
}

TEST_F(FuseLocks, InterruptBeforeTheWaitIsParkedEndsIt) {
  auto f = create("f");
  ASSERT_EQ(lk(FUSE_SETLK, f, 1, F_WRLCK).error(), 0);
  // Another request thread may serve the INTERRUPT before the SETLKW is parked.
  auto b = lk_request(FUSE_SETLKW, f, 2, F_WRLCK);
  fuse_interrupt_in intr{b.header().unique};
  client->send(RequestBuilder(FUSE_INTERRUPT, 0).arg(intr));
  EXPECT_EQ(client->send(b).error(), EINTR);
  EXPECT_EQ(server->parked_lock_waits(), 0u);
}

TEST_F(FuseLocks, NewSessionEndsParkedWaits) {
  auto f = create("f");
  ASSERT_EQ(lk(FUSE_SETLK, f, 1, F_WRLCK).error(), 0);
  uint64_t w = park(f, 2);
  ASSERT_EQ(client->init().error(), 0);  // the guest mounted again
  EXPECT_EQ(deferred_error(w), EINTR);
}

TEST_F(FuseLocks, WaitForAHostHolderEndsWhenTheHostUnlocks) {
  auto f = create("f");
  // A host process holds the lock: no guest unlock will announce its end.
  UniqueFd host(::open((dir.path() / "f").c_str(), O_RDWR | O_CLOEXEC));
  struct flock fl {};
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  ASSERT_EQ(fcntl(host.get(), F_OFD_SETLK, &fl), 0);
  uint64_t w = park(f, 2);
  fl.l_type = F_UNLCK;
  ASSERT_EQ(fcntl(host.get(), F_OFD_SETLK, &fl), 0);
  EXPECT_EQ(deferred_error(w), 0) << "the retry never saw the host's unlock";
}

TEST_F(FuseLocks, LockDescriptorsCountAgainstTheOpenHandleBound) {
  ServerConfig config{dir.path()};
  config.max_open_handles = 3;
  start(config);
  auto f = create("f");  // one handle
  ASSERT_EQ(lk(FUSE_SETLK, f, 1, F_RDLCK).error(), 0);
  ASSERT_EQ(lk(FUSE_SETLK, f, 2, F_RDLCK).error(), 0);
  EXPECT_EQ(server->lock_fd_count(), 2u);
  // The attack: a new lock owner per request, each a host descriptor.
  EXPECT_EQ(lk(FUSE_SETLK, f, 3, F_RDLCK).error(), ENOLCK);
  EXPECT_EQ(client->open(f.entry.nodeid, O_RDONLY).error(), EMFILE);
  EXPECT_EQ(lk(FUSE_SETLK, f, 1, F_RDLCK).error(), 0) << "an owner's descriptor is reused";
  EXPECT_EQ(flush(f, 1), 0);
  EXPECT_EQ(server->lock_fd_count(), 1u);
  EXPECT_EQ(lk(FUSE_SETLK, f, 3, F_RDLCK).error(), 0);
}

}  // namespace
}  // namespace vmrt::fuse
