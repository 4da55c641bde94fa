// Operations against a real temporary tree, driven through Server::handle
// as the kernel would: results, errno values, lookup counting, and the
// server's refusal to leave the shared directory.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "common/tempdir.h"
#include "tests/unit/vmm/fuse/fuse_client.h"
#include "vmm/fuse/server.h"

namespace vmrt::fuse {
namespace {

using test::Client;
using test::RequestBuilder;

struct Created {
  fuse_entry_out entry;
  fuse_open_out open;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

struct FuseOps : ::testing::Test {
  TempDir outside{"fuse-outside"};
  TempDir dir{"fuse-ops"};
  std::unique_ptr<Server> server;
  std::unique_ptr<Client> client;

  void SetUp() override { start(CacheMode::kAuto); }
  void start(CacheMode mode) {
    ServerConfig config{dir.path()};
    config.cache = mode;
    server = std::make_unique<Server>(config);
    client = std::make_unique<Client>(*server);
    ASSERT_EQ(client->init().error(), 0);
  }
  Created create(const std::string& name, uint64_t parent = FUSE_ROOT_ID) {
    auto r = client->create(parent, name, O_RDWR, 0640);
    EXPECT_EQ(r.error(), 0) << name;
    return r.as<Created>();
  }
  int mkdir(const std::string& name, uint64_t parent = FUSE_ROOT_ID) {
    return client->send(RequestBuilder(FUSE_MKDIR, parent).arg(fuse_mkdir_in{0755, 0}).name(name))
        .error();
  }
  // Names in a directory through OPENDIR + READDIR in `size`-byte replies.
  std::multiset<std::string> list(uint64_t node, uint32_t size, bool plus = false) {
    uint64_t fh = client->open(node, O_RDONLY, FUSE_OPENDIR).as<fuse_open_out>().fh;
    std::multiset<std::string> names;
    uint64_t off = 0;
    for (int guard = 0; guard < 10000; ++guard) {
      auto r = client->read(node, fh, off, size, plus ? FUSE_READDIRPLUS : FUSE_READDIR);
      EXPECT_EQ(r.error(), 0);
      if (r.body.empty()) break;
      for (size_t p = 0; p < r.body.size();) {
        const char* base = r.body.data() + p;
        const fuse_dirent* d = plus ? &reinterpret_cast<const fuse_direntplus*>(base)->dirent
                                    : reinterpret_cast<const fuse_dirent*>(base);
        names.insert(std::string(d->name, d->namelen));
        off = d->off;
        if (plus && reinterpret_cast<const fuse_direntplus*>(base)->entry_out.nodeid)
          client->forget(reinterpret_cast<const fuse_direntplus*>(base)->entry_out.nodeid, 1);
        p += plus ? FUSE_DIRENTPLUS_SIZE(reinterpret_cast<const fuse_direntplus*>(base))
                  : FUSE_DIRENT_SIZE(d);
      }
    }
    client->release(node, fh, FUSE_RELEASEDIR);
    return names;
  }
};

TEST_F(FuseOps, CreateWriteReadThroughSplitBuffers) {
  auto f = create("file");
  std::string data(100000, 'x');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  auto w = client->write(f.entry.nodeid, f.open.fh, 0, data, 4093);
  ASSERT_EQ(w.error(), 0);
  EXPECT_EQ(w.as<fuse_write_out>().size, data.size());
  EXPECT_EQ(slurp(dir.path() / "file"), data);
  // A read into a reply split in odd segments returns the same bytes.
  std::string req = RequestBuilder(FUSE_READ, f.entry.nodeid)
                        .arg(fuse_read_in{f.open.fh, 10, 50000, 0, 0, 0, 0})
                        .build();
  auto r = client->send_raw(req, 7, 60000, 999);
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.body, data.substr(10, 50000));
  // At the end of the file the read is short.
  r = client->read(f.entry.nodeid, f.open.fh, 99990, 100);
  EXPECT_EQ(r.body, data.substr(99990));
  // A reply buffer smaller than asked for gets what fits.
  r = client->send_raw(req, 0, sizeof(fuse_out_header) + 123);
  EXPECT_EQ(r.body.size(), 123u);
  EXPECT_EQ(client->release(f.entry.nodeid, f.open.fh).error(), 0);
  EXPECT_EQ(server->handle_count(), 0u);
}

TEST_F(FuseOps, CreateExistingAndExclusive) {
  create("f");
  auto r = client->create(FUSE_ROOT_ID, "f", O_RDWR | O_EXCL, 0600);
  EXPECT_EQ(r.error(), EEXIST);
  r = client->create(FUSE_ROOT_ID, "f", O_RDWR, 0600);
  EXPECT_EQ(r.error(), 0) << "without O_EXCL an existing file is opened";
  ASSERT_EQ(mkfifo((dir.path() / "fifo").c_str(), 0600), 0);
  EXPECT_EQ(client->create(FUSE_ROOT_ID, "fifo", O_RDWR, 0600).error(), ENXIO)
      << "a host FIFO is never opened (it would block)";
}

TEST_F(FuseOps, LookupCountsAndForgetGivesInodesBack) {
  create("a");
  ASSERT_EQ(mkdir("d"), 0);
  uint64_t a = client->nodeid(FUSE_ROOT_ID, "a");
  EXPECT_EQ(client->nodeid(FUSE_ROOT_ID, "a"), a) << "one node id per file";
  ASSERT_EQ(::link((dir.path() / "a").c_str(), (dir.path() / "d/b").c_str()), 0);
  uint64_t d = client->nodeid(FUSE_ROOT_ID, "d");
  EXPECT_EQ(client->nodeid(d, "b"), a) << "hard links share the node";
  EXPECT_EQ(server->inode_count(), 3u);
  client->forget(a, 3);  // create + lookup + lookup
  EXPECT_EQ(server->inode_count(), 3u) << "one lookup still owed";
  client->forget(a, 1);
  client->forget(d, 2);
  EXPECT_EQ(server->inode_count(), 1u);
  // BATCH_FORGET too.
  a = client->nodeid(FUSE_ROOT_ID, "a");
  d = client->nodeid(FUSE_ROOT_ID, "d");
  fuse_batch_forget_in in{2, 0};
  client->send(RequestBuilder(FUSE_BATCH_FORGET, 0)
                   .arg(in)
                   .arg(fuse_forget_one{a, 1})
                   .arg(fuse_forget_one{d, 1}));
  EXPECT_EQ(server->inode_count(), 1u);
  client->forget(FUSE_ROOT_ID, 100);
  EXPECT_EQ(client->send(RequestBuilder(FUSE_GETATTR, FUSE_ROOT_ID)).error(), 0)
      << "the root is never forgotten";
}

TEST_F(FuseOps, DotDotAtTheRootIsTheRoot) {
  auto r = client->lookup(FUSE_ROOT_ID, "..");
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_entry_out>().nodeid, uint64_t{FUSE_ROOT_ID});
  ASSERT_EQ(mkdir("d"), 0);
  uint64_t d = client->nodeid(FUSE_ROOT_ID, "d");
  EXPECT_EQ(client->nodeid(d, ".."), uint64_t{FUSE_ROOT_ID});
  EXPECT_EQ(client->nodeid(d, "."), d);
}

TEST_F(FuseOps, SymlinksAreNeverFollowedOnTheHost) {
  std::ofstream(outside.path() / "secret") << "secret";
  std::filesystem::create_directory_symlink(outside.path(), dir.path() / "out");
  std::filesystem::create_symlink(outside.path() / "secret", dir.path() / "s");
  std::filesystem::create_symlink("../../../../../..", dir.path() / "up");
  auto out = client->lookup(FUSE_ROOT_ID, "out");
  ASSERT_EQ(out.error(), 0);
  EXPECT_TRUE(S_ISLNK(out.as<fuse_entry_out>().attr.mode));
  uint64_t link = out.as<fuse_entry_out>().nodeid;
  EXPECT_EQ(client->lookup(link, "secret").error(), ENOTDIR) << "a symlink is no directory";
  EXPECT_EQ(client->open(link, O_RDONLY, FUSE_OPENDIR).error(), ENOTDIR);
  uint64_t s = client->nodeid(FUSE_ROOT_ID, "s");
  EXPECT_EQ(client->open(s, O_RDONLY).error(), ELOOP);
  EXPECT_EQ(client->open(s, O_RDONLY | O_TRUNC).error(), ELOOP);
  auto rl = client->send(RequestBuilder(FUSE_READLINK, s));
  EXPECT_EQ(rl.body, (outside.path() / "secret").string()) << "the target is text for the guest";
  // Creating through a symlink name does not follow it either.
  EXPECT_EQ(client->create(FUSE_ROOT_ID, "s", O_RDWR, 0600).error(), ELOOP);
  fuse_setattr_in sa{};
  sa.valid = FATTR_SIZE;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_SETATTR, s).arg(sa)).error(), EINVAL);
  EXPECT_EQ(slurp(outside.path() / "secret"), "secret");
  // Names with a slash never reach the host's path walk.
  EXPECT_EQ(client->lookup(FUSE_ROOT_ID, "up/etc").error(), EINVAL);
  EXPECT_EQ(client->create(FUSE_ROOT_ID, "out/new", O_RDWR, 0600).error(), EINVAL);
  EXPECT_FALSE(std::filesystem::exists(outside.path() / "new"));
}

TEST_F(FuseOps, DotDotOfADirectoryMovedOutIsRefused) {
  ASSERT_EQ(mkdir("a"), 0);
  ASSERT_EQ(mkdir("b", client->nodeid(FUSE_ROOT_ID, "a")), 0);
  uint64_t b = client->nodeid(client->nodeid(FUSE_ROOT_ID, "a"), "b");
  // The host moves b out of the share; its parent is now outside.
  std::filesystem::rename(dir.path() / "a/b", outside.path() / "b");
  EXPECT_EQ(client->lookup(b, "..").error(), EACCES);
}

TEST_F(FuseOps, SpecialFilesAreNotOpenedOnTheHost) {
  fuse_mknod_in in{};
  in.mode = S_IFIFO | 0644;
  ASSERT_EQ(client->send(RequestBuilder(FUSE_MKNOD, FUSE_ROOT_ID).arg(in).name("p")).error(), 0);
  struct stat st;
  ASSERT_EQ(lstat((dir.path() / "p").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(client->open(client->nodeid(FUSE_ROOT_ID, "p"), O_RDONLY).error(), ENXIO);
  in.mode = S_IFDIR | 0755;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_MKNOD, FUSE_ROOT_ID).arg(in).name("x")).error(),
            EINVAL);
}

// Guest root asking for device nodes: refused even when the server could
// make them (as here when the test runs as root), and nothing appears on
// the host. FIFOs and sockets need no privilege and are made.
TEST_F(FuseOps, DeviceNodesAreRefused) {
  auto mknod = [&](const std::string& name, mode_t mode, uint32_t rdev) {
    fuse_mknod_in in{};
    in.mode = mode;
    in.rdev = rdev;  // the kernel's new_encode_dev: 0xMMMmm for small numbers
    return client->send(RequestBuilder(FUSE_MKNOD, FUSE_ROOT_ID).arg(in).name(name)).error();
  };
  EXPECT_EQ(mknod("sda", S_IFBLK | 0660, 0x800), EPERM);
  EXPECT_EQ(mknod("mem", S_IFCHR | 0666, 0x101), EPERM);
  EXPECT_EQ(mknod("null", S_IFCHR | 04777, 0x103), EPERM);
  for (const char* name : {"sda", "mem", "null"})
    EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(dir.path() / name)))
        << name;
  EXPECT_EQ(mknod("fifo", S_IFIFO | 0600, 0), 0);
  EXPECT_EQ(mknod("sock", S_IFSOCK | 0600, 0), 0);
  EXPECT_TRUE(std::filesystem::is_fifo(dir.path() / "fifo"));
  EXPECT_TRUE(std::filesystem::is_socket(dir.path() / "sock"));
}

TEST_F(FuseOps, ReaddirInSmallRepliesListsEveryNameOnce) {
  std::multiset<std::string> want = {".", ".."};
  for (int i = 0; i < 300; ++i) {
    std::string name = "file-with-a-longish-name-" + std::to_string(i);
    std::ofstream(dir.path() / name) << i;
    want.insert(name);
  }
  EXPECT_EQ(list(FUSE_ROOT_ID, 4096), want);
  EXPECT_EQ(list(FUSE_ROOT_ID, 200), want);
  EXPECT_EQ(list(FUSE_ROOT_ID, 4096, true), want);
  EXPECT_EQ(list(FUSE_ROOT_ID, 300, true), want);
  EXPECT_EQ(server->inode_count(), 1u) << "READDIRPLUS counts one lookup per entry";
  // A reply too small for one entry is empty, not an overrun.
  uint64_t fh = client->open(FUSE_ROOT_ID, O_RDONLY, FUSE_OPENDIR).as<fuse_open_out>().fh;
  EXPECT_TRUE(client->read(FUSE_ROOT_ID, fh, 0, 10, FUSE_READDIR).body.empty());
  EXPECT_TRUE(client->read(FUSE_ROOT_ID, fh, 0, 100, FUSE_READDIRPLUS).body.empty());
  EXPECT_EQ(server->inode_count(), 1u);
}

TEST_F(FuseOps, RenameFlags) {
  std::ofstream(dir.path() / "a") << "A";
  std::ofstream(dir.path() / "b") << "B";
  auto rename2 = [&](const char* from, const char* to, uint32_t flags) {
    fuse_rename2_in in{FUSE_ROOT_ID, flags, 0};
    return client->send(RequestBuilder(FUSE_RENAME2, FUSE_ROOT_ID).arg(in).name(from).name(to))
        .error();
  };
  EXPECT_EQ(rename2("a", "b", RENAME_NOREPLACE), EEXIST);
  EXPECT_EQ(rename2("a", "b", RENAME_EXCHANGE), 0);
  EXPECT_EQ(slurp(dir.path() / "a"), "B");
  EXPECT_EQ(rename2("a", "b", RENAME_WHITEOUT), EINVAL);
  EXPECT_EQ(rename2("a", "..", 0), EINVAL);
  fuse_rename_in in{FUSE_ROOT_ID};
  EXPECT_EQ(
      client->send(RequestBuilder(FUSE_RENAME, FUSE_ROOT_ID).arg(in).name("a").name("c")).error(),
      0);
  EXPECT_TRUE(std::filesystem::exists(dir.path() / "c"));
  in.newdir = 4242;
  EXPECT_EQ(
      client->send(RequestBuilder(FUSE_RENAME, FUSE_ROOT_ID).arg(in).name("c").name("d")).error(),
      ENOENT);
}

TEST_F(FuseOps, LinkUnlinkRmdirSymlink) {
  auto f = create("f");
  auto r = client->send(
      RequestBuilder(FUSE_LINK, FUSE_ROOT_ID).arg(fuse_link_in{f.entry.nodeid}).name("g"));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(r.as<fuse_entry_out>().nodeid, f.entry.nodeid);
  EXPECT_EQ(r.as<fuse_entry_out>().attr.nlink, 2u);
  ASSERT_EQ(mkdir("d"), 0);
  uint64_t d = client->nodeid(FUSE_ROOT_ID, "d");
  EXPECT_EQ(
      client->send(RequestBuilder(FUSE_LINK, FUSE_ROOT_ID).arg(fuse_link_in{d}).name("e")).error(),
      EPERM);
  r = client->send(RequestBuilder(FUSE_SYMLINK, FUSE_ROOT_ID).name("l").name("/etc/passwd"));
  ASSERT_EQ(r.error(), 0);
  EXPECT_EQ(std::filesystem::read_symlink(dir.path() / "l"), "/etc/passwd");
  EXPECT_EQ(client->send(RequestBuilder(FUSE_UNLINK, FUSE_ROOT_ID).name("g")).error(), 0);
  EXPECT_EQ(client->send(RequestBuilder(FUSE_UNLINK, FUSE_ROOT_ID).name("g")).error(), ENOENT);
  EXPECT_EQ(client->send(RequestBuilder(FUSE_RMDIR, FUSE_ROOT_ID).name("f")).error(), ENOTDIR);
  std::ofstream(dir.path() / "d/x");
  EXPECT_EQ(client->send(RequestBuilder(FUSE_RMDIR, FUSE_ROOT_ID).name("d")).error(), ENOTEMPTY);
  EXPECT_EQ(mkdir("d"), EEXIST);
}

TEST_F(FuseOps, SetattrModeSizeTimes) {
  auto f = create("f");
  fuse_setattr_in in{};
  in.valid = FATTR_MODE | FATTR_SIZE | FATTR_MTIME | FATTR_ATIME;
  in.mode = 0600;
  in.size = 12345;
  in.mtime = 1000000000;
  in.mtimensec = 5;
  in.atime = 2000000000;
  auto r = client->send(RequestBuilder(FUSE_SETATTR, f.entry.nodeid).arg(in));
  ASSERT_EQ(r.error(), 0);
  auto a = r.as<fuse_attr_out>().attr;
  EXPECT_EQ(a.mode & 07777, 0600u);
  EXPECT_EQ(a.size, 12345u);
  EXPECT_EQ(a.mtime, 1000000000u);
  EXPECT_EQ(a.mtimensec, 5u);
  EXPECT_EQ(a.atime, 2000000000u);
  in.valid = FATTR_SIZE | FATTR_FH;
  in.fh = f.open.fh;
  in.size = 7;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_SETATTR, f.entry.nodeid).arg(in))
                .as<fuse_attr_out>()
                .attr.size,
            7u);
  in.fh = 999;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_SETATTR, f.entry.nodeid).arg(in)).error(), EBADF);
  in.valid = FATTR_MTIME;
  in.mtimensec = 2000000000;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_SETATTR, f.entry.nodeid).arg(in)).error(), EINVAL);
  in.valid = FATTR_SIZE;
  EXPECT_EQ(client->send(RequestBuilder(FUSE_SETATTR, FUSE_ROOT_ID).arg(in)).error(), EISDIR);
}

TEST_F(FuseOps, Xattrs) {
  auto f = create("f");
  uint64_t n = f.entry.nodeid;
  fuse_setxattr_in s{};
  s.size = 3;
  // The short form the kernel sends without FUSE_SETXATTR_EXT: 8 bytes.
  auto set = client->send(RequestBuilder(FUSE_SETXATTR, n)
                              .bytes(&s, FUSE_COMPAT_SETXATTR_IN_SIZE)
                              .name("user.k")
                              .bytes("val", 3));
  ASSERT_EQ(set.error(), 0);
  char buf[8] = {};
  EXPECT_EQ(getxattr((dir.path() / "f").c_str(), "user.k", buf, sizeof buf), 3);
  auto get = [&](uint32_t size) {
    return client->send(
        RequestBuilder(FUSE_GETXATTR, n).arg(fuse_getxattr_in{size, 0}).name("user.k"));
  };
  EXPECT_EQ(get(0).as<fuse_getxattr_out>().size, 3u);
  EXPECT_EQ(get(10).body, "val");
  EXPECT_EQ(get(2).error(), ERANGE);
  auto list = client->send(RequestBuilder(FUSE_LISTXATTR, n).arg(fuse_getxattr_in{100, 0}));
  EXPECT_NE(list.body.find("user.k"), std::string::npos);
  s.size = 100;
  EXPECT_EQ(client
                ->send(RequestBuilder(FUSE_SETXATTR, n)
                           .bytes(&s, FUSE_COMPAT_SETXATTR_IN_SIZE)
                           .name("user.k")
                           .bytes("val", 3))
                .error(),
            EINVAL)
      << "a value size past the request";
  s.size = 1 << 20;
  EXPECT_EQ(client
                ->send(RequestBuilder(FUSE_SETXATTR, n)
                           .bytes(&s, FUSE_COMPAT_SETXATTR_IN_SIZE)
                           .name("user.k"))
                .error(),
            E2BIG);
  EXPECT_EQ(client->send(RequestBuilder(FUSE_REMOVEXATTR, n).name("user.k")).error(), 0);
  EXPECT_EQ(get(0).error(), ENODATA);
}

TEST_F(FuseOps, OpenHandlesAreBoundedAndReleaseFreesThem) {
  ServerConfig config{dir.path()};
  config.max_open_handles = 2;
  server = std::make_unique<Server>(config);
  client = std::make_unique<Client>(*server);
  ASSERT_EQ(client->init().error(), 0);
  auto a = create("a");
  uint64_t d = client->open(FUSE_ROOT_ID, O_RDONLY, FUSE_OPENDIR).as<fuse_open_out>().fh;
  EXPECT_EQ(server->handle_count(), 2u);
  EXPECT_EQ(client->open(a.entry.nodeid, O_RDONLY).error(), EMFILE);
  EXPECT_EQ(client->open(FUSE_ROOT_ID, O_RDONLY, FUSE_OPENDIR).error(), EMFILE);
  EXPECT_EQ(client->create(FUSE_ROOT_ID, "b", O_RDWR, 0600).error(), EMFILE);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "b")) << "a refused CREATE makes no file";
  EXPECT_EQ(server->handle_count(), 2u);
  EXPECT_EQ(client->release(FUSE_ROOT_ID, d, FUSE_RELEASEDIR).error(), 0);
  auto r = client->open(a.entry.nodeid, O_RDONLY);
  ASSERT_EQ(r.error(), 0) << "a released handle can be opened again";
  EXPECT_EQ(client->release(a.entry.nodeid, r.as<fuse_open_out>().fh).error(), 0);
  EXPECT_EQ(client->release(a.entry.nodeid, a.open.fh).error(), 0);
  EXPECT_EQ(server->handle_count(), 0u);
}

TEST_F(FuseOps, StatfsAccessFsyncFallocateLseek) {
  EXPECT_EQ(
      client->send(RequestBuilder(FUSE_STATFS, FUSE_ROOT_ID)).as<fuse_statfs_out>().st.namelen,
      255u);
  auto f = create("f");
  EXPECT_EQ(client->send(RequestBuilder(FUSE_ACCESS, f.entry.nodeid).arg(fuse_access_in{R_OK, 0}))
                .error(),
            0);
  EXPECT_EQ(client->send(RequestBuilder(FUSE_ACCESS, f.entry.nodeid).arg(fuse_access_in{0x100, 0}))
                .error(),
            EINVAL);
  EXPECT_EQ(client
                ->send(RequestBuilder(FUSE_FSYNC, f.entry.nodeid)
                           .arg(fuse_fsync_in{f.open.fh, FUSE_FSYNC_FDATASYNC, 0}))
                .error(),
            0);
  fuse_fallocate_in fa{f.open.fh, 0, 1 << 20, 0, 0};
  EXPECT_EQ(client->send(RequestBuilder(FUSE_FALLOCATE, f.entry.nodeid).arg(fa)).error(), 0);
  EXPECT_EQ(std::filesystem::file_size(dir.path() / "f"), 1u << 20);
  client->write(f.entry.nodeid, f.open.fh, 4096, "data");
  auto seek = [&](uint64_t off, uint32_t whence) {
    return client->send(
        RequestBuilder(FUSE_LSEEK, f.entry.nodeid).arg(fuse_lseek_in{f.open.fh, off, whence, 0}));
  };
  EXPECT_EQ(seek(0, SEEK_DATA).error(), 0);
  EXPECT_EQ(seek(2 << 20, SEEK_DATA).error(), ENXIO);
  EXPECT_EQ(seek(5, SEEK_SET).as<fuse_lseek_out>().offset, 5u);
  EXPECT_EQ(seek(5, 77).error(), EINVAL);
}

TEST_F(FuseOps, CacheModesSetTimeoutsAndOpenFlags) {
  for (auto [mode, timeout, flags] :
       {std::tuple{CacheMode::kNone, 0u, uint32_t{FOPEN_DIRECT_IO}},
        std::tuple{CacheMode::kAuto, 1u, 0u},
        std::tuple{CacheMode::kAlways, 86400u, uint32_t{FOPEN_KEEP_CACHE}}}) {
    start(mode);
    auto r = client->create(FUSE_ROOT_ID, "f-" + std::string(cache_mode_name(mode)), O_RDWR, 0600);
    auto c = r.as<Created>();
    EXPECT_EQ(c.entry.entry_valid, timeout);
    EXPECT_EQ(c.entry.attr_valid, timeout);
    EXPECT_EQ(c.open.open_flags, flags);
  }
  EXPECT_EQ(parse_cache_mode("always"), CacheMode::kAlways);
  EXPECT_FALSE(parse_cache_mode("sometimes"));
}

TEST_F(FuseOps, ConcurrentRequestsFromManyThreads) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      Client c(*server);
      for (int i = 0; i < 200; ++i) {
        std::string name = "t" + std::to_string(t) + "-" + std::to_string(i % 10);
        auto r = c.create(FUSE_ROOT_ID, name, O_RDWR, 0600);
        if (r.error() != 0) continue;
        auto cr = r.as<Created>();
        c.write(cr.entry.nodeid, cr.open.fh, 0, name);
        c.release(cr.entry.nodeid, cr.open.fh);
        c.forget(cr.entry.nodeid, 1);
        c.send(RequestBuilder(FUSE_UNLINK, FUSE_ROOT_ID).name(name));
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(server->inode_count(), 1u);
  EXPECT_EQ(server->handle_count(), 0u);
}

}  // namespace
}  // namespace vmrt::fuse
