// The files of `vmrt check`: the guest kernel, image and VMM the runtime
// configuration names, and containerd's configuration.

#include <asm/bootparam.h>
#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <memory>

#include "common/error.h"
#include "common/fd.h"
#include "tools/vmrt/host_check.h"

namespace vmrt::cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kVmrtRuntimeType = "io.containerd.vmrt.v1";

CheckResult result(const std::string& name, CheckLevel level, std::string message) {
  return {name, level, std::move(message)};
}

// The first bytes of `file` (fewer when it is shorter); throws vmrt::Error
// when it cannot be read.
std::vector<unsigned char> head(const fs::path& file, size_t n) {
  UniqueFd fd(::open(file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("cannot read " + file.string());
  struct stat st;
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) fail("{} is not a file", file.string());
  std::vector<unsigned char> buf(n);
  size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd.get(), buf.data() + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw_errno("cannot read " + file.string());
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  buf.resize(got);
  return buf;
}

// What the VMM's ELF loader takes: a 64-bit x86-64 executable.
std::string elf_problem(const std::vector<unsigned char>& h) {
  if (h.size() < sizeof(Elf64_Ehdr)) return "an ELF file shorter than its header";
  Elf64_Ehdr eh;
  std::memcpy(&eh, h.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_X86_64)
    return "an ELF file, but not x86-64 (64-bit)";
  if (eh.e_type != ET_EXEC) return "an ELF file, but not an executable vmlinux";
  return {};
}

// What the VMM's bzImage loader takes: the 64-bit entry of boot protocol
// 2.12 or later, loaded high. The version when it is one, else the problem.
std::string bzimage_problem(const std::vector<unsigned char>& h, std::string* version) {
  constexpr size_t kOffset = offsetof(boot_params, hdr);
  setup_header sh;
  if (h.size() < kOffset + sizeof sh) return "shorter than a bzImage's setup header";
  std::memcpy(&sh, h.data() + kOffset, sizeof sh);
  if (sh.version < 0x020c)
    return fmt::format("a bzImage of boot protocol {}.{:02}, older than the 2.12 vmrt needs",
                       sh.version >> 8, sh.version & 0xff);
  if (!(sh.xloadflags & XLF_KERNEL_64)) return "a bzImage without the 64-bit entry";
  if (!(sh.loadflags & LOADED_HIGH)) return "a zImage (not loaded high)";
  *version = fmt::format("{}.{:02}", sh.version >> 8, sh.version & 0xff);
  return {};
}

bool is_bzimage(const std::vector<unsigned char>& h) {
  constexpr size_t kOffset = offsetof(boot_params, hdr);
  setup_header sh;
  if (h.size() < kOffset + sizeof sh) return false;
  std::memcpy(&sh, h.data() + kOffset, sizeof sh);
  return sh.boot_flag == 0xaa55 && std::memcmp(&sh.header, "HdrS", 4) == 0;
}

// Why `reader` cannot read `file` by its mode bits, or "" when it can.
std::string unreadable_by(const fs::path& file, std::optional<JailIds> reader) {
  struct stat st;
  if (!reader || ::stat(file.c_str(), &st) != 0) return {};
  mode_t bit = st.st_uid == reader->uid ? S_IRUSR : st.st_gid == reader->gid ? S_IRGRP : S_IROTH;
  if (st.st_mode & bit) return {};
  return fmt::format(
      "{} (mode {:o}, owner {}:{}) cannot be read by the jailed VMM's uid {} gid {}; make it "
      "readable to them (chmod a+r)",
      file.string(), st.st_mode & 07777, st.st_uid, st.st_gid, reader->uid, reader->gid);
}

struct GzClose {
  void operator()(gzFile f) const { gzclose(f); }
};

// The runtime handlers under any `runtimes` table of containerd's
// configuration (config version 2's CRI plugin, version 3's, or another
// plugin's) whose runtime_type is vmrt's.
void find_vmrt_runtimes(const toml::table& t, std::vector<std::string>& names) {
  for (auto&& [key, value] : t) {
    const toml::table* sub = value.as_table();
    if (!sub) continue;
    if (key.str() == "runtimes") {
      for (auto&& [handler, entry] : *sub)
        if (entry.is_table() &&
            (*entry.as_table())["runtime_type"].value_or(std::string()) == kVmrtRuntimeType)
          names.push_back(std::string(handler.str()));
    } else {
      find_vmrt_runtimes(*sub, names);
    }
  }
}

}  // namespace

std::optional<JailIds> jail_reader(const sandbox::RuntimeConfig& config) {
  if (!config.jail) return std::nullopt;
  return JailIds{config.jail_uid, config.jail_gid};
}

CheckResult check_kernel(const fs::path& kernel, std::optional<JailIds> reader) {
  std::vector<unsigned char> h;
  try {
    h = head(kernel, 4096);
  } catch (const Error& e) {
    return result("kernel", CheckLevel::kFail, e.what());
  }
  if (std::string why = unreadable_by(kernel, reader); !why.empty())
    return result("kernel", CheckLevel::kFail, why);
  if (h.size() >= SELFMAG && std::memcmp(h.data(), ELFMAG, SELFMAG) == 0) {
    std::string problem = elf_problem(h);
    if (!problem.empty())
      return result("kernel", CheckLevel::kFail, kernel.string() + " is " + problem);
    return result("kernel", CheckLevel::kOk, kernel.string() + " (ELF vmlinux, x86-64)");
  }
  if (is_bzimage(h)) {
    std::string version;
    std::string problem = bzimage_problem(h, &version);
    if (!problem.empty())
      return result("kernel", CheckLevel::kFail, kernel.string() + " is " + problem);
    return result("kernel", CheckLevel::kOk,
                  fmt::format("{} (bzImage, boot protocol {})", kernel.string(), version));
  }
  return result("kernel", CheckLevel::kFail,
                kernel.string() + " is neither an ELF vmlinux nor a bzImage");
}

CheckResult check_image(const fs::path& image, std::optional<JailIds> reader) {
  std::vector<unsigned char> h;
  try {
    h = head(image, 2);
  } catch (const Error& e) {
    return result("image", CheckLevel::kFail, e.what());
  }
  if (std::string why = unreadable_by(image, reader); !why.empty())
    return result("image", CheckLevel::kFail, why);
  const bool gzip = h.size() == 2 && h[0] == 0x1f && h[1] == 0x8b;
  // gzread reads a file that is not gzip as it is.
  std::unique_ptr<gzFile_s, GzClose> in(gzopen(image.c_str(), "rb"));
  std::array<char, 6> magic{};
  int n = in ? gzread(in.get(), magic.data(), magic.size()) : -1;
  std::string_view m(magic.data(), magic.size());
  if (n != int(magic.size()) || (m != "070701" && m != "070702"))
    return result("image", CheckLevel::kFail,
                  fmt::format("{} is not a newc cpio archive{} (the guest kernel reads a plain "
                              "or gzip-compressed one)",
                              image.string(), gzip ? " inside its gzip" : ""));
  return result("image", CheckLevel::kOk,
                fmt::format("{} ({}newc cpio)", image.string(), gzip ? "gzip-compressed " : ""));
}

CheckResult check_vmm(const fs::path& vmm) {
  struct stat st;
  if (::stat(vmm.c_str(), &st) != 0)
    return result("vmm", CheckLevel::kFail,
                  fmt::format("{}: {}", vmm.string(), std::strerror(errno)));
  if (!S_ISREG(st.st_mode))
    return result("vmm", CheckLevel::kFail, vmm.string() + " is not a file");
  if (::access(vmm.c_str(), X_OK) != 0 || !(st.st_mode & 0111))
    return result("vmm", CheckLevel::kFail, vmm.string() + " is not executable");
  return result("vmm", CheckLevel::kOk, vmm.string());
}

CheckResult check_containerd(const fs::path& config_file) {
  std::error_code ec;
  if (!fs::exists(config_file, ec))
    return result("containerd", CheckLevel::kWarn,
                  fmt::format("no {}: vmrt is not registered with containerd's CRI (see "
                              "docs/containerd.md)",
                              config_file.string()));
  toml::table root;
  try {
    root = toml::parse_file(config_file.string());
  } catch (const toml::parse_error& e) {
    return result("containerd", CheckLevel::kFail,
                  fmt::format("{}:{}:{}: {}", config_file.string(), e.source().begin.line,
                              e.source().begin.column, e.description()));
  }
  std::vector<std::string> names;
  find_vmrt_runtimes(root, names);
  if (names.empty())
    return result("containerd", CheckLevel::kWarn,
                  fmt::format("{} has no runtime with runtime_type \"{}\": Kubernetes pods "
                              "cannot ask for vmrt (see docs/containerd.md)",
                              config_file.string(), kVmrtRuntimeType));
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "\"" : ", \"") + n + "\"";
  return result(
      "containerd", CheckLevel::kOk,
      fmt::format("runtime handler {} ({}) in {}", list, kVmrtRuntimeType, config_file.string()));
}

}  // namespace vmrt::cli
