// The state root: one directory per container, locked with flock while a
// command changes it, state.json replaced by rename so that unlocked readers
// see either the old or the new record, never a mix.
#include "tools/vmrt/state_store.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "common/error.h"
#include "common/fd_io.h"
#include "common/tempdir.h"

namespace vmrt::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kStateFile = "state.json";
constexpr mode_t kDirMode = 0711;
// What a create names its directory until it is complete and locked. Ids
// cannot start with '.', so this never collides with a container.
constexpr const char* kCreatingTemplate = ".creating.XXXXXX";
// The version reported for records that do not say which spec their bundle
// used: the one vmrt writes itself (agent requests, default specs).
constexpr const char* kDefaultOciVersion = "1.0.2";

[[noreturn]] void no_such_container(const std::string& id) {
  fail("container ID does not exist: \"{}\"", id);
}

// The container directory `dir`, not followed if it is a symlink.
struct stat container_stat(const fs::path& dir, const std::string& id) {
  struct stat st;
  if (::lstat(dir.c_str(), &st) < 0) {
    if (errno == ENOENT) no_such_container(id);
    throw_errno("stat " + dir.string());
  }
  if (!S_ISDIR(st.st_mode)) fail("{} is not a directory", dir.string());
  return st;
}

UniqueFd open_dir(const fs::path& dir) {
  return UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
}

void lock_exclusive(int fd, const fs::path& dir) {
  while (::flock(fd, LOCK_EX) < 0)
    if (errno != EINTR) throw_errno("lock " + dir.string());
}

// The directory mode regardless of the umask, which mkdir would apply.
void set_mode(const fs::path& dir, int fd) {
  check_sys(::fchmod(fd, kDirMode), "chmod " + dir.string());
}

void write_state(const fs::path& dir, const ContainerRecord& r) {
  std::string text = to_json(r).dump(2) + "\n";
  std::string tmp = (dir / (std::string(kStateFile) + ".XXXXXX")).string();
  UniqueFd fd(::mkostemp(tmp.data(), O_CLOEXEC));
  if (!fd) throw_errno("create " + tmp);
  try {
    // 0600 whatever the umask: the record names sockets and processes other
    // users have no business with.
    check_sys(::fchmod(fd.get(), 0600), "chmod " + tmp);
    write_all(fd.get(), text);
    fd.reset();
    check_sys(::rename(tmp.c_str(), (dir / kStateFile).c_str()),
              "rename " + tmp + " to " + (dir / kStateFile).string());
  } catch (...) {
    ::unlink(tmp.c_str());
    throw;
  }
}

ContainerRecord read_state(const fs::path& dir, const std::string& id) {
  fs::path file = dir / kStateFile;
  std::ifstream in(file);
  if (!in) throw_errno("cannot read container state " + file.string());
  std::string text((std::istreambuf_iterator<char>(in)), {});
  if (in.bad()) throw_errno("cannot read container state " + file.string());
  ContainerRecord r = record_from_text(text, file.string());
  if (r.id != id)
    fail("{}: id \"{}\" does not match the directory \"{}\"", file.string(), r.id, id);
  return r;
}

}  // namespace

const char* status_name(Status s) {
  switch (s) {
    case Status::Creating:
      return "creating";
    case Status::Created:
      return "created";
    case Status::Running:
      return "running";
    case Status::Paused:
      return "paused";
    case Status::Stopped:
      return "stopped";
  }
  return "unknown";
}

Status effective_status(const ContainerRecord& r) {
  // pid 0: a create recorded the container before it started the keeper.
  if (r.status == Status::Stopped || r.keeper.pid == 0) return r.status;
  return r.keeper.alive() ? r.status : Status::Stopped;
}

nlohmann::ordered_json oci_state_json(const ContainerRecord& r, const std::string& owner) {
  Status status = effective_status(r);
  nlohmann::ordered_json j;
  j["ociVersion"] = r.oci_version.empty() ? kDefaultOciVersion : r.oci_version;
  j["id"] = r.id;
  // runc reports 0 for a stopped container: its pid may belong to anyone now.
  j["pid"] = status == Status::Stopped ? 0 : r.keeper.pid;
  j["status"] = status_name(status);
  j["bundle"] = r.bundle.string();
  j["rootfs"] = r.rootfs.string();
  j["created"] = r.created;
  if (!r.annotations.empty()) j["annotations"] = r.annotations;
  j["owner"] = owner;
  return j;
}

ContainerRecord LockedContainer::read() const { return read_state(dir_, id_); }

void LockedContainer::write(const ContainerRecord& r) {
  if (r.id != id_) fail("cannot record container \"{}\" in the directory of \"{}\"", r.id, id_);
  write_state(dir_, r);
}

void LockedContainer::remove() && {
  remove_tree(dir_);
  lock_.reset();
}

StateStore::StateStore(fs::path root) : root_(std::move(root)) {
  struct stat st;
  if (::stat(root_.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) fail("state directory {} is not a directory", root_.string());
    return;
  }
  std::error_code ec;
  if (root_.has_parent_path()) fs::create_directories(root_.parent_path(), ec);
  if (ec) fail("cannot create state directory {}: {}", root_.string(), ec.message());
  if (::mkdir(root_.c_str(), kDirMode) < 0) {
    if (errno == EEXIST) return;  // another vmrt made it first
    throw_errno("cannot create state directory " + root_.string());
  }
  // mkdir applied the umask.
  check_sys(::chmod(root_.c_str(), kDirMode), "chmod " + root_.string());
}

LockedContainer StateStore::create(const std::string& id) {
  auto [dir, lock] = create_locked(id, nullptr);
  return LockedContainer(id, std::move(dir), std::move(lock));
}

LockedContainer StateStore::create(const ContainerRecord& first) {
  auto [dir, lock] = create_locked(first.id, &first);
  return LockedContainer(first.id, std::move(dir), std::move(lock));
}

std::pair<fs::path, UniqueFd> StateStore::create_locked(const std::string& id,
                                                        const ContainerRecord* first) {
  check_container_id(id);
  fs::path dir = root_ / id;
  std::string tmp = (root_ / kCreatingTemplate).string();
  if (!::mkdtemp(tmp.data())) throw_errno("create a directory in " + root_.string());
  try {
    UniqueFd lock = open_dir(tmp);
    if (!lock) throw_errno("open " + tmp);
    set_mode(tmp, lock.get());
    lock_exclusive(lock.get(), tmp);
    if (first) write_state(tmp, *first);
    // RENAME_NOREPLACE: of several creators, exactly one rename succeeds.
    // (A plain rename would replace an existing empty directory.)
    if (::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_NOREPLACE) < 0) {
      if (errno == EEXIST) fail("container ID already exists: \"{}\"", id);
      throw_errno("rename " + tmp + " to " + dir.string());
    }
    return {std::move(dir), std::move(lock)};
  } catch (...) {
    remove_tree(tmp);
    throw;
  }
}

LockedContainer StateStore::lock(const std::string& id) {
  check_container_id(id);
  fs::path dir = root_ / id;
  for (;;) {
    UniqueFd fd = open_dir(dir);
    if (!fd) {
      if (errno == ENOENT) no_such_container(id);
      throw_errno("open " + dir.string());
    }
    lock_exclusive(fd.get(), dir);
    // While we waited, the holder may have removed the container, and
    // another create may have made a new one of the same id: the lock only
    // counts if the locked directory is still the one at that path.
    struct stat locked;
    check_sys(::fstat(fd.get(), &locked), "stat " + dir.string());
    struct stat now = container_stat(dir, id);
    if (locked.st_dev == now.st_dev && locked.st_ino == now.st_ino)
      return LockedContainer(id, dir, std::move(fd));
  }
}

ContainerRecord StateStore::read(const std::string& id) const {
  check_container_id(id);
  fs::path dir = root_ / id;
  container_stat(dir, id);
  return read_state(dir, id);
}

std::vector<std::string> StateStore::ids() const {
  std::vector<std::string> ids;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    // A directory removed since readdir listed it is simply not counted.
    std::error_code gone;
    if (it->symlink_status(gone).type() != fs::file_type::directory) continue;
    try {
      check_container_id(name);
    } catch (const Error&) {
      continue;  // a create's temporary directory, or not ours
    }
    ids.push_back(std::move(name));
  }
  if (ec) fail("cannot list {}: {}", root_.string(), ec.message());
  std::sort(ids.begin(), ids.end());
  return ids;
}

std::string StateStore::owner(const std::string& id) const {
  check_container_id(id);
  struct stat st = container_stat(root_ / id, id);
  std::vector<char> buf(16384);
  passwd pw, *found = nullptr;
  if (::getpwuid_r(st.st_uid, &pw, buf.data(), buf.size(), &found) == 0 && found) return pw.pw_name;
  return "#" + std::to_string(st.st_uid);
}

}  // namespace vmrt::cli
