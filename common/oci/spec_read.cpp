// config.json -> Spec: strict about JSON types, with the file and JSON path
// in every message. The keys come from spec_fields.h; the rules beyond types
// (absolute paths, known names) live in spec_validate.cpp.
#include "common/error.h"
#include "common/json_text.h"
#include "common/oci/spec.h"
#include "common/oci/spec_fields.h"
#include "common/oci/spec_validate.h"

namespace vmrt::oci {

namespace {

using nlohmann::json;

using json_fields::Reader;

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
  return parse_spec(read_json_file(file), purpose, file.string());
}

}  // namespace vmrt::oci
