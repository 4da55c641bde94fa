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

namespace vmrt::cli {

// gtest's printer for EXPECT_EQ on two records: state.json's text.
static void PrintTo(const ContainerRecord& r, std::ostream* os) { *os << to_json(r).dump(); }

namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;
using test::error_text;
using ::testing::HasSubstr;
using ::testing::UnorderedElementsAreArray;

ContainerRecord sample(const std::string& id) {
  ContainerRecord r;
  r.id = id;
  r.bundle = "/srv/bundles/" + id;
  r.rootfs = "/srv/bundles/" + id + "/rootfs";
  r.oci_version = "1.0.2-dev";
  r.status = Status::Running;
  r.keeper = {1234, 5678};
  r.vmm = {1235, 5679};
  r.vm_socket = "/run/vmrt/" + id + "/vm.sock";
  r.console_log = "/run/vmrt/" + id + "/console.log";
  r.init_pid = 1;
  r.created = "2024-01-02T03:04:05.123456789Z";
  r.annotations = {{"a", "b"}, {"io.vmrt.config.vcpus", "2"}};
  r.exit_status = 137;
  r.error = "guest kernel panicked";
  return r;
}

mode_t mode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::lstat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

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

char proc_state(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  size_t close = s.rfind(')');
  return close == std::string::npos || close + 2 >= s.size() ? '?' : s[close + 2];
}

// A forked child running `body` (which must not return into the test), killed
// and reaped when the test is done with it.
class Child {
 public:
  template <typename Body>
  explicit Child(Body body) {
    pid_ = ::fork();
    if (pid_ < 0) throw_errno("fork");
    if (pid_ == 0) {
      int code = 3;
      try {
        code = body();
      } catch (...) {
      }
      ::_exit(code);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      wait();
    }
  }
  pid_t pid() const { return pid_; }
  // The exit code, or -1 when it did not exit normally.
  int wait() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }

 private:
  pid_t pid_ = -1;
};

int sleep_forever() {
  for (;;) ::pause();
}

// --- status names, ids -----------------------------------------------------

TEST(Status, HasTheOciNames) {
  EXPECT_STREQ(status_name(Status::Creating), "creating");
  EXPECT_STREQ(status_name(Status::Created), "created");
  EXPECT_STREQ(status_name(Status::Running), "running");
  EXPECT_STREQ(status_name(Status::Paused), "paused");
  EXPECT_STREQ(status_name(Status::Stopped), "stopped");
}

// --- the record on disk ----------------------------------------------------

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

// --- processes -------------------------------------------------------------

TEST(ProcessId, OfThisProcessIsAlive) {
  ProcessId self = ProcessId::of(::getpid());
  EXPECT_EQ(self.pid, ::getpid());
  EXPECT_GT(self.start_time, 0u);
  EXPECT_TRUE(self.alive());
  EXPECT_EQ(ProcessId::of(::getpid()).start_time, self.start_time);
}

TEST(ProcessId, AnotherStartTimeIsAnotherProcess) {
  // What a pid reused by a later process looks like to an old record.
  ProcessId self = ProcessId::of(::getpid());
  EXPECT_FALSE((ProcessId{self.pid, self.start_time + 1}).alive());
  EXPECT_FALSE((ProcessId{self.pid, 0}).alive());
}

TEST(ProcessId, NoPidIsNotAlive) {
  EXPECT_FALSE(ProcessId{}.alive());
  EXPECT_FALSE((ProcessId{-1, 0}).alive());
  EXPECT_THAT(error_text([] { ProcessId::of(0); }), HasSubstr("no running process with pid 0"));
  EXPECT_THAT(error_text([] { ProcessId::of(-5); }), HasSubstr("no running process"));
}

TEST(ProcessId, AChildIsAliveUntilItDies) {
  Child child(sleep_forever);
  ProcessId id = ProcessId::of(child.pid());
  EXPECT_EQ(id.pid, child.pid());
  EXPECT_TRUE(id.alive());
  // A child starts after its parent.
  EXPECT_GE(id.start_time, ProcessId::of(::getpid()).start_time);
  ::kill(child.pid(), SIGKILL);
  child.wait();
  EXPECT_FALSE(id.alive());
  EXPECT_THAT(error_text([&] { ProcessId::of(id.pid); }),
              HasSubstr(fmt::format("no running process with pid {}", id.pid)));
}

TEST(ProcessId, AZombieIsGone) {
  Child child([] { return 0; });
  ProcessId id{child.pid(), 0};
  for (int i = 0; i < 1000 && proc_state(child.pid()) != 'Z'; ++i) std::this_thread::sleep_for(5ms);
  ASSERT_EQ(proc_state(child.pid()), 'Z');
  EXPECT_THAT(error_text([&] { ProcessId::of(child.pid()); }), HasSubstr("no running process"));
  // Even with the right start time, read while it is a zombie.
  std::ifstream in("/proc/" + std::to_string(child.pid()) + "/stat");
  std::string s((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(s.substr(s.rfind(')') + 1));
  std::string field;
  for (int n = 3; n <= 22; ++n) fields >> field;
  id.start_time = std::stoull(field);
  EXPECT_FALSE(id.alive());
  EXPECT_EQ(child.wait(), 0);
}

TEST(ProcessId, AProcessExitingWhileItIsCheckedIsGoneNotAnError) {
  // Reading /proc/PID/stat of a process reaped between the open and the read
  // fails with ESRCH; `vmrt delete --force` met that race as an exception.
  // Checking children as they exit and are reaped hits that window now and
  // then; every answer must be "gone" or "alive", never an error.
  for (int i = 0; i < 100; ++i) {
    Child child([] { return 0; });
    pid_t pid = child.pid();
    std::atomic<bool> reaped{false};
    std::thread checker([&] {
      while (!reaped.load()) EXPECT_NO_THROW((void)(ProcessId{pid, 1}.alive()));
    });
    EXPECT_EQ(child.wait(), 0);
    reaped = true;
    checker.join();
    EXPECT_FALSE((ProcessId{pid, 1}).alive());
  }
}

TEST(ProcessId, ReadsTheStartTimePastACommandNameWithSpacesAndParentheses) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  UniqueFd ready_read(ready[0]), ready_write(ready[1]);
  Child child([&] {
    ready_read.reset();
    // 15 characters at most: ") ) 1 2 3 (x) y"
    ::prctl(PR_SET_NAME, ") ) 1 2 3 (x) y");
    char c = 'r';
    if (::write(ready_write.get(), &c, 1) != 1) return 1;
    return sleep_forever();
  });
  ProcessId before = ProcessId::of(child.pid());
  ready_write.reset();
  char c;
  ASSERT_EQ(::read(ready_read.get(), &c, 1), 1);
  std::ifstream comm("/proc/" + std::to_string(child.pid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  ASSERT_EQ(name, ") ) 1 2 3 (x) y");
  ProcessId after = ProcessId::of(child.pid());
  EXPECT_EQ(after.start_time, before.start_time);
  EXPECT_TRUE(before.alive());
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
