#include "agent/container/cgroups.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "common/cgroup_files.h"
#include "common/error.h"
#include "common/fd_io.h"
#include "common/log.h"

namespace vmrt::agent {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr auto kTimeout = std::chrono::seconds(10);
const std::set<std::string> kControllers = {"cpu", "cpuset", "memory", "pids", "io", "hugetlb"};

// "key value" lines (cpu.stat, memory.stat, memory.events, cgroup.events).
std::map<std::string, uint64_t> key_values(const std::string& s) {
  std::istringstream in(s);
  std::map<std::string, uint64_t> out;
  std::string key;
  uint64_t value;
  while (in >> key >> value) out[key] = value;
  return out;
}

std::optional<uint64_t> max_value(const std::string& s) {
  if (s.rfind("max", 0) == 0) return std::nullopt;
  return std::stoull(s);
}

}  // namespace

Cgroup Cgroup::create(const fs::path& root, const std::string& relative,
                      const std::set<std::string>& needed) {
  struct stat st;
  if (::stat((root / "cgroup.controllers").c_str(), &st) < 0)
    fail("{} is not a cgroup v2 mount (no cgroup.controllers)", root.string());
  fs::path dir = root;
  fs::path rel(relative);
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    // Enable in the parent what the child may use.
    std::set<std::string> offered = cgroup_words(read_cgroup_file(dir / "cgroup.controllers"));
    std::set<std::string> enabled = cgroup_words(read_cgroup_file(dir / "cgroup.subtree_control"));
    for (const std::string& c : needed)
      if (!offered.count(c))
        fail("cgroup controller \"{}\" is not available in {} (it offers: {})", c, dir.string(),
             fmt::join(offered, " "));
    for (const std::string& c : kControllers)
      if (offered.count(c) && !enabled.count(c)) {
        try {
          write_cgroup_file(dir / "cgroup.subtree_control", "+" + c);
        } catch (const Error& e) {
          if (needed.count(c)) throw;
          spdlog::debug("not enabling {}: {}", c, e.what());
        }
      }
    dir /= *it;
    bool leaf = std::next(it) == rel.end();
    if (::mkdir(dir.c_str(), 0755) < 0) {
      if (errno != EEXIST) throw_errno("cannot create cgroup " + dir.string());
      if (leaf) fail("cgroup {} exists already", dir.string());
    }
  }
  Cgroup cg;
  cg.path_ = dir;
  cg.dir_.reset(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.dir_) {
    int err = errno;
    ::rmdir(dir.c_str());
    throw_errno("cannot open cgroup " + dir.string(), err);
  }
  return cg;
}

Cgroup::~Cgroup() {
  try {
    remove();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
  }
}

std::string Cgroup::read(const std::string& file) { return read_cgroup_file(path_ / file); }

bool Cgroup::has(const std::string& file) {
  return ::faccessat(dir_.get(), file.c_str(), F_OK, 0) == 0;
}

void Cgroup::apply(const std::vector<CgroupWrite>& writes) {
  for (const CgroupWrite& w : writes) write_cgroup_file(path_ / w.file, w.value);
}

void Cgroup::wait_events(const std::string& key, const std::string& value) {
  // cgroup.events signals a change with POLLPRI; re-read after each wake.
  fs::path file = path_ / "cgroup.events";
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot open " + file.string());
  const auto deadline = Clock::now() + kTimeout;
  for (;;) {
    char buf[256];
    ssize_t n = ::pread(fd.get(), buf, sizeof buf - 1, 0);
    if (n < 0) throw_errno("cannot read " + file.string());
    auto kv = key_values(std::string(buf, static_cast<size_t>(n)));
    if (std::to_string(kv[key]) == value) return;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0)
      fail("{}: \"{} {}\" not reached within {} s", file.string(), key, value, kTimeout.count());
    pollfd p{fd.get(), POLLPRI, 0};
    ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 100)));
  }
}

void Cgroup::freeze(bool frozen) {
  write_cgroup_file(path_ / "cgroup.freeze", frozen ? "1" : "0");
  wait_events("frozen", frozen ? "1" : "0");
}

bool Cgroup::frozen() { return key_values(read("cgroup.events"))["frozen"] == 1; }

void Cgroup::kill() {
  if (has("cgroup.kill")) {
    write_cgroup_file(path_ / "cgroup.kill", "1");
    return;
  }
  // Before Linux 5.14: freeze so that nothing forks between listing and
  // killing, kill each, thaw so that the signals are acted on.
  freeze(true);
  for (pid_t pid : procs()) ::kill(pid, SIGKILL);
  freeze(false);
}

std::vector<pid_t> Cgroup::procs() {
  std::istringstream in(read("cgroup.procs"));
  std::vector<pid_t> out;
  for (pid_t pid; in >> pid;) out.push_back(pid);
  return out;
}

uint64_t Cgroup::oom_kills() {
  if (!has("memory.events")) return 0;
  return key_values(read("memory.events"))["oom_kill"];
}

Stats Cgroup::stats() {
  Stats s;
  auto cpu = key_values(read("cpu.stat"));
  s.cpu = {cpu["usage_usec"], cpu["user_usec"],    cpu["system_usec"],
           cpu["nr_periods"], cpu["nr_throttled"], cpu["throttled_usec"]};
  if (has("memory.current")) {
    Stats::Memory m;
    // memory.stat before memory.current: clients take the working set as
    // current - inactive_file, and a container reading files grows both
    // between two reads. In this order current holds the page cache that
    // stat counted; in the other, inactive_file could pass current and
    // the working set read 0 (seen in the rig during a container's `ls -R`).
    m.stat = key_values(read("memory.stat"));
    m.current = std::stoull(read("memory.current"));
    m.max = max_value(read("memory.max"));
    if (has("memory.swap.current")) m.swap_current = std::stoull(read("memory.swap.current"));
    auto events = key_values(read("memory.events"));
    m.oom = events["oom"];
    m.oom_kill = events["oom_kill"];
    s.memory = std::move(m);
  }
  if (has("pids.current"))
    s.pids = Stats::Pids{std::stoull(read("pids.current")), max_value(read("pids.max"))};
  if (has("io.stat")) {
    std::vector<Stats::IoDevice> devices;
    std::istringstream in(read("io.stat"));
    for (std::string line; std::getline(in, line);) {
      std::istringstream fields(line);
      std::string dev;
      fields >> dev;
      Stats::IoDevice d;
      if (std::sscanf(dev.c_str(), "%u:%u", &d.major, &d.minor) != 2) continue;
      for (std::string kv; fields >> kv;) {
        size_t eq = kv.find('=');
        if (eq == std::string::npos) continue;
        std::string k = kv.substr(0, eq);
        uint64_t v = std::stoull(kv.substr(eq + 1));
        for (auto [name, field] : {std::pair{"rbytes", &d.rbytes},
                                   {"wbytes", &d.wbytes},
                                   {"rios", &d.rios},
                                   {"wios", &d.wios},
                                   {"dbytes", &d.dbytes},
                                   {"dios", &d.dios}})
          if (k == name) *field = v;
      }
      devices.push_back(d);
    }
    s.io = std::move(devices);
  }
  return s;
}

void Cgroup::remove() {
  if (!dir_) return;
  kill();
  // A frozen cgroup keeps its killed processes from dying.
  if (frozen()) freeze(false);
  wait_events("populated", "0");
  const auto deadline = Clock::now() + kTimeout;
  while (::rmdir(path_.c_str()) < 0) {
    if (errno == ENOENT) break;
    if (errno != EBUSY || Clock::now() > deadline)
      throw_errno("cannot remove cgroup " + path_.string());
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  dir_.reset();
}

}  // namespace vmrt::agent
