#pragma once
// Strict reading of JSON objects into structs, shared by the OCI spec model
// (common/oci) and the vmrt CLI's state records. A struct lists its keys once
// in a visit_fields(v, s) overload (found by argument-dependent lookup),
// calling v.required(key, field) or v.optional(key, field); Reader walks that
// list, refusing wrong JSON types and out-of-range integers with messages
// that name the source and the JSON path:
//   config.json: process.args: expected an array of strings, got number
//   state.json: missing required field "bundle"
// Members it is not asked for are ignored; null counts as absent, as in the
// Go implementations. An enum field is read from a string by an ADL-found
//   void from_json_text(const std::string& text, E& out, const std::string& where)
// that throws vmrt::Error starting with `where` for an unknown name.

#include <fmt/format.h>

#include <concepts>
#include <filesystem>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "common/error.h"

namespace vmrt::json_fields {

template <typename T, typename U>
concept Is = std::same_as<std::remove_const_t<T>, U>;

template <typename T>
concept Integer = std::integral<T> && !std::same_as<T, bool>;

template <typename T, template <typename...> typename Template>
inline constexpr bool IsSpecialization = false;
template <typename... Args, template <typename...> typename Template>
inline constexpr bool IsSpecialization<Template<Args...>, Template> = true;

using StringMap = std::map<std::string, std::string>;

// What a field of type T holds, for "expected ..." messages.
template <typename T>
std::string expected() {
  if constexpr (std::same_as<T, std::string> || std::same_as<T, std::filesystem::path> ||
                std::is_enum_v<T>) {
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

class Reader {
 public:
  using json = nlohmann::json;

  // `path` is the JSON path of `j` ("" at the top level); `source` names the
  // file for messages and must outlive the reader.
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
  void read(const std::string& path, const json& v, std::filesystem::path& out) const {
    std::string s;
    read(path, v, s);
    out = s;
  }
  template <typename E>
  requires std::is_enum_v<E>
  void read(const std::string& path, const json& v, E& out) const {
    std::string s;
    read(path, v, s);
    from_json_text(s, out, source_ + ": " + path);
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
  // A struct with its own visit_fields: a nested object.
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

}  // namespace vmrt::json_fields
