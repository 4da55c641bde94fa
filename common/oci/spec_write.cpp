// Spec -> config.json, for the bundles the CLI and the tests write and the
// spec the shim hands to the agent. Walks the same field list as the reader
// (spec_fields.h), so everything parse_spec reads comes back out.
#include "common/oci/spec.h"
#include "common/oci/spec_fields.h"

namespace vmrt::oci {

namespace {

using nlohmann::json;

json value(const std::string& s) { return s; }
json value(bool b) { return b; }
json value(const StringMap& m) { return m; }
template <Integer T>
json value(T i) {
  return i;
}
template <typename T>
json value(const std::optional<T>& o);
template <typename T>
json value(const std::vector<T>& v);
template <typename T>
requires std::is_aggregate_v<T> json value(const T& s);

// Builds one JSON object from a struct's fields. An optional field is left
// out when it holds its default (absent, "", [], {}, false, 0) since a reader
// treats absent and default alike; a std::optional is written whenever it
// is set, because there absence means something else.
class Writer {
 public:
  template <typename T>
  void required(const char* key, const T& field) {
    out[key] = value(field);
  }
  template <typename T>
  void optional(const char* key, const T& field) {
    json j = value(field);
    if (IsSpecialization<T, std::optional> ? !j.is_null() : !is_default(j)) out[key] = std::move(j);
  }

  json out = json::object();

 private:
  static bool is_default(const json& j) {
    // json::empty() is false for every string, so strings are checked apart.
    if (j.is_string()) return j.get_ref<const std::string&>().empty();
    return j.is_null() || j == false || j == 0 || ((j.is_array() || j.is_object()) && j.empty());
  }
};

template <typename T>
json value(const std::optional<T>& o) {
  return o ? value(*o) : json();
}

template <typename T>
json value(const std::vector<T>& v) {
  json out = json::array();
  for (const T& e : v) out.push_back(value(e));
  return out;
}

template <typename T>
requires std::is_aggregate_v<T> json value(const T& s) {
  Writer w;
  visit_fields(w, s);
  return std::move(w.out);
}

}  // namespace

nlohmann::json to_json(const Spec& spec) { return value(spec); }

}  // namespace vmrt::oci
