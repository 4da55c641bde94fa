// config.json -> Spec: strict about JSON types, with the file and JSON path
// in every message. The keys come from spec_fields.h; the rules beyond types
// (absolute paths, known names) live in spec_validate.cpp.
#include <cerrno>
#include <fstream>
#include <limits>
#include <utility>

#include "common/error.h"
#include "common/oci/spec.h"
#include "common/oci/spec_fields.h"
#include "common/oci/spec_validate.h"

namespace vmrt::oci {

namespace {

using nlohmann::json;

// What a field of type T holds, for "expected ..." messages.
template <typename T>
std::string expected() {
  if constexpr (std::same_as<T, std::string>) {
    return "a string";
  } else if constexpr (std::same_as<T, bool>) {
    return "a boolean";
  } else if constexpr (Integer<T>) {
    return "an integer";
  } else if constexpr (std::same_as<T, StringMap>) {
    return "an object of strings";
  } else if constexpr (IsSpecialization<T, std::vector>) {
    using E = typename T::value_type;
    if constexpr (std::same_as<E, std::string>) return "an array of strings";
    if constexpr (Integer<E>) return "an array of integers";
    return "an array of objects";
  } else {
    return "an object";
  }
}

// Reads the members of one JSON object into a struct, as visit_fields lists
// them. Members it is not asked for are ignored; null counts as absent, as
// in the Go implementations.
class Reader {
 public:
  Reader(const json& j, std::string path, const std::string& source)
      : j_(j), path_(std::move(path)), source_(source) {
    if (!j_.is_object()) type_error(path_, "an object", j_);
  }

  template <typename T>
  void required(const char* key, T& field) const {
    if (!present(key)) fail("{}: missing required field \"{}\"", source_, at(key));
    read(at(key), j_.at(key), field);
  }
  template <typename T>
  void optional(const char* key, T& field) const {
    if (present(key)) read(at(key), j_.at(key), field);
  }

 private:
  bool present(const char* key) const { return j_.contains(key) && !j_.at(key).is_null(); }
  std::string at(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  [[noreturn]] void type_error(const std::string& path, const std::string& what,
                               const json& got) const {
    fail("{}: {}: expected {}, got {}", source_, path.empty() ? "top level" : path, what,
         got.type_name());
  }

  void read(const std::string& path, const json& v, std::string& out) const {
    if (!v.is_string()) type_error(path, expected<std::string>(), v);
    out = v.get<std::string>();
  }
  void read(const std::string& path, const json& v, bool& out) const {
    if (!v.is_boolean()) type_error(path, expected<bool>(), v);
    out = v.get<bool>();
  }
  template <Integer T>
  void read(const std::string& path, const json& v, T& out) const {
    if (!v.is_number_integer()) type_error(path, expected<T>(), v);
    // nlohmann keeps non-negative integers as unsigned and negative ones as
    // signed; either way the value must fit T exactly.
    bool fits = v.is_number_unsigned() ? std::in_range<T>(v.get<uint64_t>())
                                       : std::in_range<T>(v.get<int64_t>());
    if (!fits)
      fail("{}: {}: {} is out of range ({} to {})", source_, path, v.dump(),
           std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
    out = v.get<T>();
  }
  void read(const std::string& path, const json& v, StringMap& out) const {
    if (!v.is_object()) type_error(path, expected<StringMap>(), v);
    for (const auto& [key, value] : v.items())
      read(fmt::format("{}[\"{}\"]", path, key), value, out[key]);
  }
  template <typename T>
  void read(const std::string& path, const json& v, std::optional<T>& out) const {
    T value{};
    read(path, v, value);
    out = std::move(value);
  }
  template <typename T>
  void read(const std::string& path, const json& v, std::vector<T>& out) const {
    if (!v.is_array()) type_error(path, expected<std::vector<T>>(), v);
    out.resize(v.size());
    for (size_t i = 0; i < v.size(); ++i) read(fmt::format("{}[{}]", path, i), v[i], out[i]);
  }
  // One of the model's structs: a nested object.
  template <typename T>
  requires std::is_aggregate_v<T>
  void read(const std::string& path, const json& v, T& out) const {
    Reader nested(v, path, source_);
    visit_fields(nested, out);
  }

  const json& j_;
  std::string path_;
  const std::string& source_;
};

}  // namespace

Spec parse_spec(const json& j, Purpose purpose, const std::string& source) {
  Spec spec;
  Reader top(j, "", source);
  visit_fields(top, spec);
  validate(spec, purpose, source);
  return spec;
}

Spec load_spec(const std::filesystem::path& bundle, Purpose purpose) {
  std::filesystem::path file = bundle / "config.json";
  std::ifstream in(file);
  if (!in) throw_errno("cannot read " + file.string());
  json j;
  try {
    j = json::parse(in);
  } catch (const json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L,
    // column C: ..."; the bracketed id means nothing to a user.
    std::string what = e.what();
    size_t id_end = what.find("] ");
    fail("{}: malformed JSON: {}", file.string(),
         id_end == std::string::npos ? what : what.substr(id_end + 2));
  }
  return parse_spec(j, purpose, file.string());
}

}  // namespace vmrt::oci
