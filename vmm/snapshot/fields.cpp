#include "vmm/snapshot/fields.h"

namespace vmrt::vmm::snapshot {

const json& member(const json& obj, const std::string& path, const char* key) {
  if (!obj.is_object())
    fail("snapshot state: {}: expected an object, got {}", path.empty() ? "top level" : path,
         obj.type_name());
  auto it = obj.find(key);
  if (it == obj.end())
    fail("snapshot state: {}: missing \"{}\"", path.empty() ? "top level" : path, key);
  return *it;
}

bool has_member(const json& obj, const char* key) { return obj.is_object() && obj.contains(key); }

const json::array_t& array_at(const json& v, const std::string& path, size_t max) {
  if (!v.is_array()) fail("snapshot state: {}: expected an array, got {}", path, v.type_name());
  if (v.size() > max)
    fail("snapshot state: {}: {} elements, more than the {} allowed", path, v.size(), max);
  return v.get_ref<const json::array_t&>();
}

const json::binary_t& blob_at(const json& v, const std::string& path) {
  if (!v.is_binary()) fail("snapshot state: {}: expected binary data, got {}", path, v.type_name());
  return v.get_binary();
}

bool bool_at(const json& v, const std::string& path) {
  if (!v.is_boolean()) fail("snapshot state: {}: expected a boolean, got {}", path, v.type_name());
  return v.get<bool>();
}

}  // namespace vmrt::vmm::snapshot
