#pragma once
// Internal to the spec model: the rules a config.json must follow beyond its
// JSON types (absolute paths, known names, no duplicates), checked after
// reading so that each rule is stated once.

#include <string>

#include "common/oci/spec.h"

namespace vmrt::oci {

// Throws vmrt::Error "SOURCE: PATH: why" for the first rule `spec` breaks.
void validate(const Spec& spec, Purpose purpose, const std::string& source);

}  // namespace vmrt::oci
