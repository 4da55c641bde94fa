// ContainerRecord <-> state.json. One list of keys (visit_fields) serves
// reading and writing, so the two cannot drift apart. Reading is strict about
// types, since a record that reads wrongly could make a command signal or
// remove the wrong thing; every message names the file and the key.
#include "common/error.h"
#include "common/json_fields.h"
#include "tools/vmrt/state_store.h"

namespace vmrt::cli {

using json_fields::Is;

// Outside the unnamed namespace: json_fields::Reader finds these by
// argument-dependent lookup, which does not look into unnamed namespaces.

// Fields a record cannot do without are required; the others read as empty
// when absent, so a record from an older vmrt still reads.
static void visit_fields(auto& v, Is<ProcessId> auto& p) {
  v.required("pid", p.pid);
  v.required("start_time", p.start_time);
}

static void visit_fields(auto& v, Is<ContainerRecord> auto& r) {
  v.required("id", r.id);
  v.required("bundle", r.bundle);
  v.optional("rootfs", r.rootfs);
  v.optional("oci_version", r.oci_version);
  v.required("status", r.status);
  v.optional("keeper", r.keeper);
  v.optional("vmm", r.vmm);
  v.optional("vm_socket", r.vm_socket);
  v.optional("console_log", r.console_log);
  v.optional("from_template", r.from_template);
  v.optional("limit_memory_bytes", r.limit_memory_bytes);
  v.optional("limit_millicpus", r.limit_millicpus);
  v.optional("init_pid", r.init_pid);
  v.required("created", r.created);
  v.optional("annotations", r.annotations);
  v.optional("exit_status", r.exit_status);
  v.optional("error", r.error);
}

static void from_json_text(const std::string& name, Status& out, const std::string& where) {
  for (Status s :
       {Status::Creating, Status::Created, Status::Running, Status::Paused, Status::Stopped})
    if (name == status_name(s)) {
      out = s;
      return;
    }
  fail("{}: unknown status \"{}\"", where, name);
}

namespace {

using json_fields::Reader;
using nlohmann::json;

class Writer {
 public:
  explicit Writer(json& j) : j_(j) {}
  template <typename T>
  void required(const char* key, const T& field) {
    j_[key] = value(field);
  }
  template <typename T>
  void optional(const char* key, const std::optional<T>& field) {
    if (field) j_[key] = value(*field);
  }
  template <typename T>
  void optional(const char* key, const T& field) {
    j_[key] = value(field);
  }

 private:
  static json value(const std::filesystem::path& p) { return p.string(); }
  static json value(Status s) { return status_name(s); }
  static json value(const ProcessId& p) {
    json j = json::object();
    Writer w(j);
    visit_fields(w, p);
    return j;
  }
  template <typename T>
  static json value(const T& v) {
    return v;
  }

  json& j_;
};

}  // namespace

json to_json(const ContainerRecord& r) {
  json j = json::object();
  Writer w(j);
  visit_fields(w, r);
  return j;
}

ContainerRecord record_from_json(const json& j, const std::string& source) {
  ContainerRecord r;
  Reader top(j, "", source);
  visit_fields(top, r);
  // The id names the directory the record is in; a record that disagrees
  // was not written by us for this container.
  try {
    check_container_id(r.id);
  } catch (const Error& e) {
    fail("{}: id: {}", source, e.what());
  }
  if (r.bundle.is_relative()) fail("{}: bundle: \"{}\" is not absolute", source, r.bundle.string());
  if (!r.rootfs.empty() && r.rootfs.is_relative())
    fail("{}: rootfs: \"{}\" is not absolute", source, r.rootfs.string());
  return r;
}

ContainerRecord record_from_text(std::string_view text, const std::string& source) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    fail("{}: not valid JSON ({} bytes); the container state is corrupt", source, text.size());
  return record_from_json(j, source);
}

}  // namespace vmrt::cli
