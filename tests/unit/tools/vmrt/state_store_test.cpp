#include "tools/vmrt/state_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <climits>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <thread>
#include <vector>

#include "common/error.h"
#include "common/fd.h"
#include "common/tempdir.h"
#include "tests/support/error_text.h"
#include "tests/unit/tools/vmrt/state_test_support.h"

namespace vmrt::cli {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using test::error_text;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;
using namespace state_test;

ino_t inode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_ino;
}

// Whether /proc/locks shows someone waiting for a flock on inode `ino`:
// blocked requests are listed as "N: -> FLOCK ADVISORY WRITE PID MAJ:MIN:INO ...".
bool flock_waiter_on(ino_t ino) {
  std::ifstream locks("/proc/locks");
  std::string needle = ":" + std::to_string(ino) + " ";
  for (std::string line; std::getline(locks, line);)
    if (line.find("->") != std::string::npos && line.find("FLOCK") != std::string::npos &&
        line.find(needle) != std::string::npos)
      return true;
  return false;
}

// Polls until someone waits for a flock on `dir`; false after 10 s.
bool wait_for_flock_waiter(const fs::path& dir) {
  ino_t ino = inode_of(dir);
  for (int i = 0; i < 2000; ++i) {
    if (flock_waiter_on(ino)) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

// --- status names, ids -----------------------------------------------------

TEST(Status, HasTheOciNames) {
  EXPECT_STREQ(status_name(Status::Creating), "creating");
  EXPECT_STREQ(status_name(Status::Created), "created");
  EXPECT_STREQ(status_name(Status::Running), "running");
  EXPECT_STREQ(status_name(Status::Paused), "paused");
  EXPECT_STREQ(status_name(Status::Stopped), "stopped");
}

// --- effective status, OCI state -------------------------------------------

TEST(EffectiveStatus, IsTheRecordedOneWhileTheKeeperLives) {
  ContainerRecord r = sample("c1");
  r.keeper = ProcessId::of(::getpid());
  for (Status s :
       {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped}) {
    r.status = s;
    EXPECT_EQ(effective_status(r), s) << status_name(s);
  }
}

TEST(EffectiveStatus, IsStoppedOnceTheKeeperIsGone) {
  ContainerRecord r = sample("c1");
  Child keeper(sleep_forever);
  r.keeper = ProcessId::of(keeper.pid());
  r.status = Status::Running;
  EXPECT_EQ(effective_status(r), Status::Running);
  ::kill(keeper.pid(), SIGKILL);
  // Dead but not yet reaped by us: a zombie keeper keeps nothing.
  for (int i = 0; i < 1000 && proc_state(keeper.pid()) != 'Z'; ++i)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(effective_status(r), Status::Stopped);
  keeper.wait();
  EXPECT_EQ(effective_status(r), Status::Stopped);
  r.status = Status::Paused;
  EXPECT_EQ(effective_status(r), Status::Stopped);
  // A later process with the keeper's pid is not the keeper.
  r.keeper = ProcessId::of(::getpid());
  r.keeper.start_time += 1;
  EXPECT_EQ(effective_status(r), Status::Stopped);
}

TEST(EffectiveStatus, NoKeeperYetReportsTheRecordedStatus) {
  ContainerRecord r = sample("c1");
  r.keeper = {};
  r.status = Status::Creating;
  EXPECT_EQ(effective_status(r), Status::Creating);
}

TEST(OciState, MatchesRuncFieldForField) {
  ContainerRecord r = sample("c1");
  r.keeper = ProcessId::of(::getpid());
  r.status = Status::Created;
  // runc 1.1's `runc state`, word for word but for the values; the pid is
  // the keeper's (the process that lives as long as the container).
  EXPECT_EQ(oci_state_json(r).dump(2), R"({
  "ociVersion": "1.0.2-dev",
  "id": "c1",
  "pid": )" + std::to_string(::getpid()) + R"(,
  "status": "created",
  "bundle": "/srv/bundles/c1",
  "rootfs": "/srv/bundles/c1/rootfs",
  "created": "2024-01-02T03:04:05.123456789Z",
  "annotations": {
    "a": "b",
    "io.vmrt.config.vcpus": "2"
  },
  "owner": ""
})");
  // `runc list --format json` names the owner.
  EXPECT_EQ(oci_state_json(r, "root")["owner"], "root");
}

TEST(OciState, StoppedHasPidZeroAndNoAnnotationsMeansNoKey) {
  ContainerRecord r = sample("c1");
  r.annotations.clear();
  r.status = Status::Stopped;
  EXPECT_EQ(oci_state_json(r).dump(),
            R"({"ociVersion":"1.0.2-dev","id":"c1","pid":0,"status":"stopped",)"
            R"("bundle":"/srv/bundles/c1","rootfs":"/srv/bundles/c1/rootfs",)"
            R"("created":"2024-01-02T03:04:05.123456789Z","owner":""})");
  // Stopped because the keeper died without recording it.
  r.status = Status::Running;
  r.keeper = ProcessId::of(::getpid());
  r.keeper.start_time += 1;
  EXPECT_EQ(oci_state_json(r)["status"], "stopped");
  EXPECT_EQ(oci_state_json(r)["pid"], 0);
}

TEST(OciState, ARecordWithoutSpecVersionReportsOurs) {
  ContainerRecord r = sample("c1");
  r.oci_version.clear();
  EXPECT_EQ(oci_state_json(r)["ociVersion"], "1.0.2");
}

// --- the state root --------------------------------------------------------

class StateStoreTest : public ::testing::Test {
 protected:
  TempDir tmp{"vmrt-state-test"};
  fs::path root = tmp.path() / "run/vmrt";
  StateStore store{root};
};

TEST_F(StateStoreTest, MakesTheRootWithMode0711) {
  EXPECT_EQ(store.root(), root);
  EXPECT_EQ(mode_of(root), 0711u);
  StateStore again(root);  // an existing root is fine
  std::ofstream(tmp.path() / "file") << "x";
  EXPECT_THAT(error_text([&] { StateStore(tmp.path() / "file"); }), HasSubstr("not a directory"));
}

TEST_F(StateStoreTest, CreateMakesALockedDirectory) {
  LockedContainer c = store.create("c1");
  EXPECT_EQ(c.id(), "c1");
  EXPECT_EQ(c.dir(), root / "c1");
  EXPECT_EQ(mode_of(root / "c1"), 0711u);
  // Nothing but the container is left in the root.
  EXPECT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 1);
  EXPECT_THAT(error_text([&] { store.create("c1"); }),
              HasSubstr("container ID already exists: \"c1\""));
  EXPECT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 1);
}

TEST_F(StateStoreTest, CreateRejectsABadIdAndMakesNothing) {
  EXPECT_THAT(error_text([&] { store.create("../escape"); }), HasSubstr("invalid container ID"));
  EXPECT_THAT(error_text([&] { store.create(""); }), HasSubstr("invalid container ID"));
  EXPECT_TRUE(fs::is_empty(root));
  EXPECT_FALSE(fs::exists(tmp.path() / "run/escape"));
}

TEST_F(StateStoreTest, CreateWithARecordHasItInPlaceAtOnce) {
  ContainerRecord r = sample("c1");
  LockedContainer c = store.create(r);
  EXPECT_EQ(store.read("c1"), r);
  EXPECT_EQ(c.read(), r);
}

TEST_F(StateStoreTest, WriteReplacesStateJsonWithMode0600) {
  // Whatever the umask says.
  mode_t umask_before = ::umask(0177);
  LockedContainer c = store.create("c1");
  ContainerRecord r = sample("c1");
  c.write(r);
  EXPECT_EQ(mode_of(c.dir() / "state.json"), 0600u);
  EXPECT_EQ(c.read(), r);
  r.status = Status::Stopped;
  r.exit_status = 0;
  c.write(r);
  EXPECT_EQ(store.read("c1"), r);
  EXPECT_EQ(mode_of(c.dir() / "state.json"), 0600u);
  // No temporary file is left behind.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(c.dir())) files.push_back(e.path().filename());
  EXPECT_EQ(files, std::vector<std::string>{"state.json"});
  ::umask(umask_before);
}

TEST_F(StateStoreTest, WriteRefusesAnotherContainersRecord) {
  LockedContainer c = store.create("c1");
  EXPECT_THAT(error_text([&] { c.write(sample("c2")); }), HasSubstr("\"c2\""));
  EXPECT_FALSE(fs::exists(c.dir() / "state.json"));
}

TEST_F(StateStoreTest, ReadErrorsNameTheProblem) {
  EXPECT_EQ(error_text([&] { store.read("nope"); }), "container ID does not exist: \"nope\"");
  LockedContainer c = store.create("c1");
  fs::path file = root / "c1/state.json";
  EXPECT_EQ(error_text([&] { store.read("c1"); }),
            "cannot read container state " + file.string() + ": No such file or directory");
  EXPECT_THAT(error_text([&] { c.read(); }), HasSubstr(file.string()));
  std::ofstream(file) << R"({"id": "c1", "bundle": )";
  EXPECT_EQ(error_text([&] { store.read("c1"); }),
            file.string() + ": not valid JSON (23 bytes); the container state is corrupt");
  std::ofstream(file) << R"({"id": "c1", "bundle": "/b", "created": ""})";
  EXPECT_EQ(error_text([&] { store.read("c1"); }),
            file.string() + ": missing required field \"status\"");
  // A record copied from another container's directory.
  std::ofstream(file) << to_json(sample("c2")).dump();
  EXPECT_EQ(error_text([&] { store.read("c1"); }),
            file.string() + ": id \"c2\" does not match the directory \"c1\"");
}

TEST_F(StateStoreTest, IdsListsContainerDirectoriesSortedEvenWithoutState) {
  for (const char* id : {"b", "a", "c-3"}) store.create(sample(id));
  store.create("empty");  // a create that died before its first write
  fs::create_directory(root / ".creating.abcdef");
  std::ofstream(root / "file") << "x";
  fs::create_directory_symlink(tmp.path(), root / "link");
  EXPECT_EQ(store.ids(), (std::vector<std::string>{"a", "b", "c-3", "empty"}));
}

TEST_F(StateStoreTest, OwnerIsTheUserOwningTheDirectory) {
  store.create("c1");
  passwd* pw = ::getpwuid(::geteuid());
  EXPECT_EQ(store.owner("c1"), pw ? std::string(pw->pw_name) : "#" + std::to_string(::geteuid()));
  EXPECT_EQ(error_text([&] { store.owner("nope"); }), "container ID does not exist: \"nope\"");
}

TEST_F(StateStoreTest, LockFindsAnExistingContainer) {
  { store.create(sample("c1")); }
  LockedContainer c = store.lock("c1");
  EXPECT_EQ(c.dir(), root / "c1");
  EXPECT_EQ(c.read(), sample("c1"));
  EXPECT_EQ(error_text([&] { store.lock("nope"); }), "container ID does not exist: \"nope\"");
  EXPECT_THAT(error_text([&] { store.lock("a/../c1"); }), HasSubstr("invalid container ID"));
}

TEST_F(StateStoreTest, RemoveTakesTheDirectoryAndEverythingInIt) {
  LockedContainer c = store.create(sample("c1"));
  fs::create_directories(c.dir() / "sub/dir");
  std::ofstream(c.dir() / "sub/dir/file") << "x";
  fs::create_directory_symlink(tmp.path(), c.dir() / "link-out");
  std::move(c).remove();
  EXPECT_FALSE(fs::exists(root / "c1"));
  EXPECT_TRUE(fs::exists(tmp.path())) << "removal followed a symlink";
  EXPECT_EQ(error_text([&] { store.lock("c1"); }), "container ID does not exist: \"c1\"");
  EXPECT_EQ(error_text([&] { store.read("c1"); }), "container ID does not exist: \"c1\"");
  EXPECT_TRUE(store.ids().empty());
  // The id is free again.
  store.create("c1");
}

// --- concurrency -----------------------------------------------------------

TEST_F(StateStoreTest, OfConcurrentCreatingProcessesExactlyOneWins) {
  constexpr int kProcs = 8;
  for (int round = 0; round < 10; ++round) {
    std::string id = "race" + std::to_string(round);
    // All children start creating when the parent closes the pipe.
    int go[2];
    ASSERT_EQ(::pipe(go), 0);
    UniqueFd go_read(go[0]), go_write(go[1]);
    std::vector<std::unique_ptr<Child>> children;
    for (int i = 0; i < kProcs; ++i)
      children.push_back(std::make_unique<Child>([&] {
        go_write.reset();
        char c;
        if (::read(go_read.get(), &c, 1) != 0) return 4;
        try {
          StateStore(root).create(sample(id));
          return 0;
        } catch (const Error& e) {
          return std::string(e.what()).find("already exists") != std::string::npos ? 1 : 2;
        }
      }));
    go_write.reset();
    int won = 0, lost = 0;
    for (auto& child : children) {
      int code = child->wait();
      won += code == 0;
      lost += code == 1;
    }
    EXPECT_EQ(won, 1) << id;
    EXPECT_EQ(lost, kProcs - 1) << id;
    EXPECT_EQ(store.read(id), sample(id));
  }
  std::vector<std::string> expected;
  for (int round = 0; round < 10; ++round) expected.push_back("race" + std::to_string(round));
  EXPECT_THAT(store.ids(), UnorderedElementsAreArray(expected));
  // The losers left no temporary directories behind.
  EXPECT_EQ(std::distance(fs::directory_iterator(root), fs::directory_iterator()), 10);
}

TEST_F(StateStoreTest, OfConcurrentCreatingThreadsExactlyOneWins) {
  constexpr int kThreads = 8;
  std::atomic<int> won = 0, lost = 0;
  std::atomic<bool> go = false;
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&] {
      while (!go) std::this_thread::yield();
      try {
        LockedContainer c = store.create("same");
        ++won;
      } catch (const Error& e) {
        if (std::string(e.what()).find("already exists") != std::string::npos) ++lost;
      }
    });
  go = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(won, 1);
  EXPECT_EQ(lost, kThreads - 1);
}

TEST_F(StateStoreTest, ReadersNeverSeeAPartialRecord) {
  store.create(sample("c1"));
  // A record whose size changes with every write, and says which write it is,
  // so a reader would notice a mix of two.
  auto record = [](int n) {
    ContainerRecord r = sample("c1");
    r.annotations["n"] = std::to_string(n);
    r.annotations["pad"] = std::string(static_cast<size_t>(n % 97) * 61, 'x');
    return r;
  };
  Child writer([&] {
    LockedContainer c = StateStore(root).lock("c1");
    auto until = std::chrono::steady_clock::now() + 500ms;
    for (int n = 0; std::chrono::steady_clock::now() < until; ++n) c.write(record(n));
    return 0;
  });
  int reads = 0, errors = 0;
  std::string first_error;
  while (::waitpid(writer.pid(), nullptr, WNOHANG) == 0) {
    try {
      ContainerRecord r = store.read("c1");
      auto n = r.annotations.find("n");
      if (n != r.annotations.end() &&
          r.annotations["pad"].size() != static_cast<size_t>(std::stoi(n->second) % 97) * 61)
        throw Error("record " + n->second + " has the padding of another");
      ++reads;
    } catch (const Error& e) {
      if (errors++ == 0) first_error = e.what();
    }
  }
  EXPECT_EQ(errors, 0) << first_error;
  EXPECT_GT(reads, 10);
  // The writer's temporary files are all gone.
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(root / "c1")) files.push_back(e.path().filename());
  EXPECT_EQ(files, std::vector<std::string>{"state.json"});
}

TEST_F(StateStoreTest, LockWaitsForAnotherProcessHoldingIt) {
  LockedContainer held = store.create(sample("c1"));
  Child waiter([&] {
    // The fork copied the holder's descriptor, which shares its lock: close
    // this copy (without unlocking) or the lock never goes away.
    { LockedContainer inherited = std::move(held); }
    LockedContainer c = StateStore(root).lock("c1");
    // What the holder wrote before letting go must be there.
    if (c.read().error != "written by the holder") return 1;
    ContainerRecord r = c.read();
    r.error = "written by the waiter";
    c.write(r);
    return 0;
  });
  ASSERT_TRUE(wait_for_flock_waiter(root / "c1")) << "the other process did not wait for the lock";
  ContainerRecord r = sample("c1");
  r.error = "written by the holder";
  held.write(r);
  { LockedContainer release = std::move(held); }
  EXPECT_EQ(waiter.wait(), 0);
  EXPECT_EQ(store.read("c1").error, "written by the waiter");
}

TEST_F(StateStoreTest, TwoLocksInOneProcessExcludeEachOther) {
  // flock belongs to the open file description: each lock() opens its own,
  // so two locks in one process still exclude each other. The first here is
  // create()'s, which must hold lock() off the same way.
  LockedContainer held = store.create(sample("c1"));
  std::atomic<bool> acquired = false;
  std::thread other([&] {
    LockedContainer c = store.lock("c1");
    acquired = true;
  });
  ASSERT_TRUE(wait_for_flock_waiter(root / "c1"));
  EXPECT_FALSE(acquired);
  { LockedContainer release = std::move(held); }
  other.join();
  EXPECT_TRUE(acquired);
  store.lock("c1");  // free again
}

TEST_F(StateStoreTest, LockFailsWhenTheContainerIsRemovedWhileWaiting) {
  LockedContainer held = store.create(sample("c1"));
  std::string error;
  std::thread waiter([&] { error = error_text([&] { store.lock("c1"); }); });
  ASSERT_TRUE(wait_for_flock_waiter(root / "c1"));
  std::move(held).remove();
  waiter.join();
  EXPECT_EQ(error, "container ID does not exist: \"c1\"");
}

TEST_F(StateStoreTest, LockWaitingOnARemovedDirectoryMovesToItsSuccessor) {
  // The directory the waiter opened goes away and a new container of the
  // same id appears before the lock is released: the waiter must end up
  // with the new one, not a lock on a directory nobody sees any more.
  LockedContainer old_one = store.create(sample("c1"));
  std::optional<ContainerRecord> seen;
  std::thread waiter([&] { seen = store.lock("c1").read(); });
  ASSERT_TRUE(wait_for_flock_waiter(root / "c1"));
  fs::rename(root / "c1", tmp.path() / "old-c1");
  ContainerRecord r = sample("c1");
  r.error = "the successor";
  LockedContainer new_one = store.create(r);
  { LockedContainer release = std::move(old_one); }
  ASSERT_TRUE(wait_for_flock_waiter(root / "c1")) << "the waiter did not move on";
  { LockedContainer release = std::move(new_one); }
  waiter.join();
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->error, "the successor");
}

}  // namespace
}  // namespace vmrt::cli
