#pragma once
// JSON text -> nlohmann::json for every reader of JSON that someone else
// wrote (config.json, agent requests, --process and --resources files, the
// VMM's configuration), so that all of them refuse malformed text the same
// way: vmrt::Error "<source>: malformed JSON: <why>". nlohmann reports most
// problems as parse_error but a number beyond a double ("1e999") as
// out_of_range; catching parse_error alone lets that one escape as a
// foreign exception.

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace vmrt {

nlohmann::json parse_json_text(std::string_view text, const std::string& source);

// Reads all of `file` and parses it; errors name the file.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace vmrt
