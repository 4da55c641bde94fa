// VM templates (sandbox/vm_template.h) end to end on real guests: sandboxes
// restored from one snapshot are each their own (random numbers, boot id,
// clock, rootfs), a template made from other files is made again, and a
// corrupt one is refused and the sandbox boots; one restored with private
// memory maps nothing of the template.

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "tests/rig/tools/vmrt/vmrt_cli.h"

namespace vmrt::cli::test {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;
namespace fs = std::filesystem;

// What two VMs cloned from one snapshot would share if nothing made them
// their own: the kernel's random state, the boot id, the clock.
const char* kIdentityScript =
    "head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n'; echo; "
    "cat /proc/sys/kernel/random/boot_id; date +%s; cat /marker";

std::string read_all(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

int64_t now_s() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class VmrtTemplate : public ::testing::Test {
 protected:
  void SetUp() override { use_config(""); }
  void TearDown() override {
    if (!HasFailure()) EXPECT_THAT(cli_.leftovers(), IsEmpty());
  }

  // The build tree's configuration with the templates in this test's
  // directory, and `extra` lines of [hypervisor] (its last table).
  void use_config(const std::string& extra) {
    fs::path config = cli_.dir() / "config.toml";
    std::ofstream(config) << read_all(VMRT_DEV_CONFIG) << "template_dir = \""
                          << templates().string() << "\"\n"
                          << extra;
    cli_.set_config(config);
  }
  fs::path templates() const { return cli_.dir() / "templates"; }
  // The template directories made so far (not their locks).
  std::vector<fs::path> made() const {
    std::vector<fs::path> out;
    if (fs::exists(templates()))
      for (const auto& e : fs::directory_iterator(templates()))
        if (e.is_directory()) out.push_back(e.path());
    return out;
  }

  struct Run {
    std::vector<std::string> lines;
    bool from_template = false;
    std::string err;  // stderr and the log
  };
  // Runs the identity script in a container of its own whose rootfs holds
  // /marker = `name`; keeps it to read its record, then deletes it.
  Run run_identity(const std::string& name) {
    fs::path b = cli_.bundle(name, {"sh", "-c", kIdentityScript});
    std::ofstream(b / "rootfs" / "marker") << name << "\n";
    fs::path log = cli_.dir() / (name + ".log");
    RunResult r = cli_.run({"--log", log.string(), "run", "--keep", "-b", b.string(), name});
    EXPECT_TRUE(r.status.success()) << r.status.to_string() << "\n" << r.err;
    // What the runtime logged (the keeper's warnings among it).
    Run out{lines_of(r.out), cli_.record(name).value("from_template", false),
            r.err + read_all(log)};
    EXPECT_TRUE(cli_.run({"delete", name}).status.success());
    return out;
  }

  VmrtCli cli_;
};

TEST_F(VmrtTemplate, SandboxesRestoredFromOneTemplateAreEachTheirOwn) {
  // The first sandbox makes the template, then is restored from it too.
  Run first = run_identity("first");
  EXPECT_TRUE(first.from_template) << first.err;
  ASSERT_THAT(made(), SizeIs(1));
  for (const char* f : {"key.json", "state", "memory"}) EXPECT_TRUE(fs::exists(made()[0] / f)) << f;

  int64_t before = now_s();
  Run a = run_identity("a");
  Run b = run_identity("b");
  int64_t after = now_s();
  EXPECT_THAT(made(), SizeIs(1)) << "both restored from the first one's template";
  ASSERT_THAT(a.lines, SizeIs(4)) << a.err;
  ASSERT_THAT(b.lines, SizeIs(4)) << b.err;
  EXPECT_TRUE(a.from_template && b.from_template);
  EXPECT_EQ(a.lines[0].size(), 64u);
  EXPECT_NE(a.lines[0], b.lines[0]) << "the same random bytes in two restored VMs";
  EXPECT_NE(a.lines[0], first.lines[0]);
  EXPECT_NE(a.lines[1], b.lines[1]) << "the same boot id";
  // The guest's clock is the host's (the template's was minutes old).
  for (const Run* r : {&a, &b}) {
    int64_t t = std::stoll(r->lines[2]);
    EXPECT_GE(t, before - 1);
    EXPECT_LE(t, after + 1);
  }
  EXPECT_EQ(a.lines[3], "a");
  EXPECT_EQ(b.lines[3], "b");
}

TEST_F(VmrtTemplate, ATemplateOfOtherFilesOrSettingsIsMadeAgain) {
  ASSERT_TRUE(run_identity("first").from_template);
  ASSERT_THAT(made(), SizeIs(1));
  fs::path dir = made()[0];
  // As if the image had been rebuilt since: what key.json says no longer
  // matches the files.
  nlohmann::json key = nlohmann::json::parse(read_all(dir / "key.json"));
  nlohmann::json right = key;
  key["image"]["ino"] = key["image"]["ino"].get<uint64_t>() + 1;
  std::ofstream(dir / "key.json") << key.dump();
  Run again = run_identity("again");
  EXPECT_TRUE(again.from_template) << again.err;
  ASSERT_THAT(made(), SizeIs(1));
  EXPECT_EQ(nlohmann::json::parse(read_all(dir / "key.json")), right);

  // Another size is another template, beside the first.
  use_config("memory_mib = 320\n");
  Run bigger = run_identity("bigger");
  EXPECT_TRUE(bigger.from_template) << bigger.err;
  EXPECT_THAT(made(), SizeIs(2));
}

TEST_F(VmrtTemplate, ACorruptSnapshotIsRefusedAndTheSandboxBoots) {
  ASSERT_TRUE(run_identity("first").from_template);
  ASSERT_THAT(made(), SizeIs(1));
  fs::path state = made()[0] / "state";
  {
    std::fstream f(state, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(fs::file_size(state) / 2));
    char c = 0;
    f.seekg(f.tellp());
    f.get(c);
    f.seekp(static_cast<std::streamoff>(fs::file_size(state) / 2));
    f.put(static_cast<char>(c ^ 0x5a));
  }
  Run booted = run_identity("booted");
  ASSERT_THAT(booted.lines, SizeIs(4)) << booted.err;
  EXPECT_FALSE(booted.from_template);
  EXPECT_EQ(booted.lines[3], "booted");
  EXPECT_THAT(booted.err, HasSubstr("restoring VM template"));
  EXPECT_THAT(booted.err, HasSubstr("CRC"));
  // It was discarded: the next sandbox makes a good one and is restored.
  Run next = run_identity("next");
  EXPECT_TRUE(next.from_template) << next.err;

  // A memory file that is not the snapshot's size is refused too.
  ASSERT_THAT(made(), SizeIs(1));
  fs::resize_file(made()[0] / "memory", 4096);
  Run short_memory = run_identity("short");
  EXPECT_FALSE(short_memory.from_template);
  EXPECT_THAT(short_memory.err, HasSubstr("memory"));
}

// How many of `pid`'s mappings are of the file with inode `ino` (read from
// the inode column: a jailed VMM's paths are its own namespace's).
int mappings_of(pid_t pid, ino_t ino) {
  std::ifstream maps(fmt::format("/proc/{}/maps", pid));
  int n = 0;
  for (std::string line; std::getline(maps, line);) {
    std::istringstream in(line);
    std::string range, perms, offset, dev;
    uint64_t inode = 0;
    if (in >> range >> perms >> offset >> dev >> inode && inode == ino) ++n;
  }
  return n;
}

TEST_F(VmrtTemplate, PrivateMemoryIsACopyThatSharesNothingWithTheTemplate) {
  ASSERT_TRUE(run_identity("first").from_template);
  ASSERT_THAT(made(), SizeIs(1));
  struct stat st {};
  ASSERT_EQ(::stat((made()[0] / "memory").c_str(), &st), 0);
  for (const char* mode : {"shared", "private"}) {
    SCOPED_TRACE(mode);
    use_config(fmt::format("template_memory = \"{}\"\n", mode));
    fs::path b = cli_.bundle(mode, {"true"});
    ASSERT_TRUE(cli_.detached_ok({"create", "-b", b.string(), mode}));
    EXPECT_TRUE(cli_.record(mode).value("from_template", false));
    int n = mappings_of(cli_.recorded_pid(mode, "vmm"), st.st_ino);
    if (std::string(mode) == "shared")
      EXPECT_GT(n, 0) << "a shared restore maps the template's memory file";
    else
      EXPECT_EQ(n, 0) << "a private restore must not map the template's memory file";
    EXPECT_TRUE(cli_.run({"delete", "--force", mode}).status.success());
  }
  // And the private copy is a working guest, its own like the others.
  Run a = run_identity("a");
  Run b = run_identity("b");
  ASSERT_THAT(a.lines, SizeIs(4)) << a.err;
  ASSERT_THAT(b.lines, SizeIs(4)) << b.err;
  EXPECT_TRUE(a.from_template && b.from_template);
  EXPECT_NE(a.lines[0], b.lines[0]) << "the same random bytes in two restored VMs";
  EXPECT_EQ(b.lines[3], "b");
  EXPECT_THAT(made(), SizeIs(1)) << "one template serves both ways of restoring";
}

}  // namespace
}  // namespace vmrt::cli::test
