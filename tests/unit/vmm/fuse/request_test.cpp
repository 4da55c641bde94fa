// Malformed requests: every one gets an errno reply (or, for FORGET, none),
// never a crash, an over-read or a reply past the buffers.
#include <fcntl.h>
#include <gtest/gtest.h>

#include "common/tempdir.h"
#include "tests/unit/vmm/fuse/fuse_client.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {
namespace {

using test::Client;
using test::RequestBuilder;

struct FuseRequest : ::testing::Test {
  TempDir dir{"fuse-req"};
  Server server{ServerConfig{dir.path()}};
  Client client{server};
  void SetUp() override { ASSERT_EQ(client.init().error(), 0); }
};

TEST(FuseRequestBeforeInit, OnlyInitIsServed) {
  TempDir dir("fuse-req");
  Server server(ServerConfig{dir.path()});
  Client client(server);
  EXPECT_EQ(client.lookup(FUSE_ROOT_ID, "x").error(), EIO);
  fuse_forget_in f{1};
  EXPECT_EQ(client.send(RequestBuilder(FUSE_FORGET, 5).arg(f)).written, 0u);
  EXPECT_EQ(client.init().error(), 0);
}

TEST(FuseRequestInit, NegotiatesVersionAndSizes) {
  TempDir dir("fuse-req");
  ServerConfig config{dir.path()};
  config.max_write = 128 * 1024;
  config.posix_locks = false;
  Server server(config);
  Client client(server);
  auto r = client.init();
  ASSERT_EQ(r.error(), 0);
  ASSERT_EQ(r.body.size(), sizeof(fuse_init_out));
  auto out = r.as<fuse_init_out>();
  EXPECT_EQ(out.major, 7u);
  EXPECT_EQ(out.max_write, 128u * 1024);
  EXPECT_EQ(out.max_pages, 32u);
  EXPECT_EQ(out.flags & FUSE_POSIX_LOCKS, 0u);
  EXPECT_TRUE(out.flags & FUSE_DO_READDIRPLUS);
  EXPECT_EQ(out.flags & FUSE_WRITEBACK_CACHE, 0u) << "only what the server does is offered";
}

TEST(FuseRequestInit, NewerMajorGetsOurVersionOlderIsRefused) {
  TempDir dir("fuse-req");
  Server server(ServerConfig{dir.path()});
  Client client(server);
  fuse_init_in in{};
  in.major = 8;
  auto r = client.send(RequestBuilder(FUSE_INIT, 0).arg(in));
  EXPECT_EQ(r.error(), 0);
  EXPECT_EQ(r.body.size(), size_t{FUSE_COMPAT_INIT_OUT_SIZE});
  EXPECT_EQ(r.as<fuse_init_out>().major, 7u);
  in.major = 7;
  in.minor = 8;
  EXPECT_EQ(client.send(RequestBuilder(FUSE_INIT, 0).arg(in)).error(), EPROTO);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_INIT, 0).bytes("\7\0\0\0", 4)).error(), EINVAL);
}

TEST_F(FuseRequest, ShortHeaderGetsEinval) {
  std::string req = RequestBuilder(FUSE_GETATTR, 1).build().substr(0, 20);
  auto r = client.send_raw(req);
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_EQ(r.header.unique, 0u);
  EXPECT_EQ(client.send_raw("").error(), EINVAL);
}

TEST_F(FuseRequest, LengthPastTheBuffersOrBelowTheHeader) {
  RequestBuilder b(FUSE_LOOKUP, FUSE_ROOT_ID);
  b.name("a");
  b.header().len = 1000;
  auto r = client.send(b);
  EXPECT_EQ(r.error(), EINVAL);
  EXPECT_EQ(r.header.unique, b.header().unique) << "the error names the request";
  b.header().len = 10;
  EXPECT_EQ(client.send(b).error(), EINVAL);
  RequestBuilder ext(FUSE_GETATTR, FUSE_ROOT_ID);
  ext.header().total_extlen = 0xffff;
  EXPECT_EQ(client.send(ext).error(), EINVAL);
}

TEST_F(FuseRequest, LengthShorterThanTheBuffersLimitsTheArguments) {
  // The name's NUL lies beyond header.len: the name is unterminated.
  RequestBuilder b(FUSE_LOOKUP, FUSE_ROOT_ID);
  b.name("abc");
  b.header().len = sizeof(fuse_in_header) + 3;
  EXPECT_EQ(client.send(b).error(), EINVAL);
}

TEST_F(FuseRequest, NamesAreChecked) {
  EXPECT_EQ(client.send(RequestBuilder(FUSE_LOOKUP, 1).bytes("abc", 3)).error(), EINVAL)
      << "no NUL";
  EXPECT_EQ(client.lookup(1, "").error(), EINVAL);
  EXPECT_EQ(client.lookup(1, "a/b").error(), EINVAL);
  EXPECT_EQ(client.lookup(1, std::string(256, 'x')).error(), ENAMETOOLONG);
  EXPECT_EQ(client.lookup(1, std::string(255, 'x')).error(), ENOENT);
  fuse_mkdir_in m{0755, 0};
  EXPECT_EQ(client.send(RequestBuilder(FUSE_MKDIR, 1).arg(m).name("..")).error(), EINVAL);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_UNLINK, 1).name(".")).error(), EINVAL);
}

TEST_F(FuseRequest, ShortArgumentStructures) {
  for (uint32_t op :
       {FUSE_SETATTR,  FUSE_OPEN,     FUSE_READ,       FUSE_WRITE,   FUSE_MKDIR,     FUSE_MKNOD,
        FUSE_RENAME2,  FUSE_LINK,     FUSE_GETLK,      FUSE_SETLK,   FUSE_FALLOCATE, FUSE_LSEEK,
        FUSE_GETXATTR, FUSE_SETXATTR, FUSE_ACCESS,     FUSE_RELEASE, FUSE_FSYNC,     FUSE_CREATE,
        FUSE_OPENDIR,  FUSE_READDIR,  FUSE_READDIRPLUS}) {
    auto r = client.send(RequestBuilder(op, FUSE_ROOT_ID).bytes("\1\2\3", 3));
    EXPECT_EQ(r.error(), EINVAL) << "opcode " << op;
  }
}

TEST_F(FuseRequest, UnknownOpcodesAndNodes) {
  EXPECT_EQ(client.send(RequestBuilder(9999, 1)).error(), ENOSYS);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_IOCTL, 1)).error(), ENOSYS);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_GETATTR, 12345)).error(), ENOENT);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_GETATTR, 0)).error(), ENOENT);
  EXPECT_EQ(client.read(1, 777, 0, 10).error(), EBADF);
  EXPECT_EQ(client.read(1, 777, 0, 10, FUSE_READDIR).error(), EBADF);
}

TEST_F(FuseRequest, HugeForgetCountsStopAtTheData) {
  fuse_batch_forget_in in{};
  in.count = 0xffffffff;
  fuse_forget_one one{FUSE_ROOT_ID, 1};
  auto r = client.send(RequestBuilder(FUSE_BATCH_FORGET, 0).arg(in).arg(one).bytes("xyz", 3));
  EXPECT_EQ(r.written, 0u);
  EXPECT_EQ(server.inode_count(), 1u);
}

TEST_F(FuseRequest, WriteSizeBeyondItsDataIsRefused) {
  auto created = client.create(1, "g", O_RDWR, 0644);
  ASSERT_EQ(created.error(), 0);
  struct Out {
    fuse_entry_out e;
    fuse_open_out o;
  };
  auto out = created.as<Out>();
  fuse_write_in in{};
  in.fh = out.o.fh;
  in.size = 100;
  auto r = client.send(RequestBuilder(FUSE_WRITE, out.e.nodeid).arg(in).bytes("abc", 3));
  EXPECT_EQ(r.error(), EINVAL);
  in.size = 0xffffffff;
  EXPECT_EQ(client.send(RequestBuilder(FUSE_WRITE, out.e.nodeid).arg(in)).error(), EINVAL);
}

TEST_F(FuseRequest, RepliesNeverPassTheBuffers) {
  // Not even room for the header: nothing is written.
  std::string req = RequestBuilder(FUSE_GETATTR, 1).build();
  auto r = client.send_raw(req, 0, 8);
  EXPECT_EQ(r.written, 0u);
  // Room for the header only: the attributes do not fit, the error does.
  r = client.send_raw(req, 0, sizeof(fuse_out_header));
  EXPECT_EQ(r.written, sizeof(fuse_out_header));
  EXPECT_EQ(r.error(), ERANGE);
  EXPECT_EQ(server.inode_count(), 1u);
}

TEST_F(FuseRequest, ALookupWhoseReplyDoesNotFitIsNotCounted) {
  ASSERT_EQ(
      client.send(RequestBuilder(FUSE_MKDIR, 1).arg(fuse_mkdir_in{0755, 0}).name("d")).error(), 0);
  client.forget(client.nodeid(1, "d"), 2);  // mkdir's and this lookup's
  ASSERT_EQ(server.inode_count(), 1u);
  auto r = client.send_raw(RequestBuilder(FUSE_LOOKUP, 1).name("d").build(), 0, 40);
  EXPECT_EQ(r.error(), ERANGE);
  EXPECT_EQ(server.inode_count(), 1u);
}

TEST_F(FuseRequest, EverySplitOfARequestAndReplyGivesTheSameAnswer) {
  ASSERT_EQ(
      client.send(RequestBuilder(FUSE_MKDIR, 1).arg(fuse_mkdir_in{0755, 0}).name("dir")).error(),
      0);
  std::string req = RequestBuilder(FUSE_LOOKUP, 1).name("dir").build();
  auto whole = client.send_raw(req);
  ASSERT_EQ(whole.error(), 0);
  for (size_t in_chunk = 1; in_chunk <= req.size(); ++in_chunk) {
    for (size_t out_chunk : {1, 3, 7, 16, 17, 64}) {
      auto r = client.send_raw(req, in_chunk, sizeof(fuse_out_header) + sizeof(fuse_entry_out),
                               out_chunk);
      ASSERT_EQ(r.error(), 0) << in_chunk << "/" << out_chunk;
      EXPECT_EQ(r.as<fuse_entry_out>().nodeid, whole.as<fuse_entry_out>().nodeid);
      EXPECT_EQ(r.as<fuse_entry_out>().attr.ino, whole.as<fuse_entry_out>().attr.ino);
    }
  }
}

TEST_F(FuseRequest, DestroyDropsEverythingAndNeedsANewInit) {
  ASSERT_EQ(client.create(1, "f", O_RDWR, 0644).error(), 0);
  EXPECT_EQ(server.inode_count(), 2u);
  EXPECT_EQ(server.handle_count(), 1u);
  EXPECT_EQ(client.send(RequestBuilder(FUSE_DESTROY, 0)).error(), 0);
  EXPECT_EQ(server.inode_count(), 1u);
  EXPECT_EQ(server.handle_count(), 0u);
  EXPECT_EQ(client.lookup(1, "f").error(), EIO);
  EXPECT_EQ(client.init().error(), 0);
  EXPECT_EQ(client.lookup(1, "f").error(), 0);
}

}  // namespace
}  // namespace vmrt::fuse
