#include "common/json_text.h"

#include <fstream>
#include <iterator>

#include "common/error.h"

namespace vmrt {

nlohmann::json parse_json_text(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line L,
    // column C: ..."; the bracketed id means nothing to a user.
    std::string what = e.what();
    size_t id_end = what.find("] ");
    fail("{}: malformed JSON: {}", source,
         id_end == std::string::npos ? what : what.substr(id_end + 2));
  }
}

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw_errno("cannot read " + file.string());
  std::string text(std::istreambuf_iterator<char>(in), {});
  if (in.bad()) throw_errno("cannot read " + file.string());
  return parse_json_text(text, file.string());
}

}  // namespace vmrt
