// The field table (sandbox/config_fields.h) against what still lists keys
// apart from it: the documentation's table of keys, the names
// annotations.allowed takes, the unknown-annotation message and to_json.
#include "sandbox/config_fields.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/error.h"
#include "sandbox/config.h"
#include "tests/unit/sandbox/config_test_support.h"

namespace vmrt::sandbox {
namespace {

using namespace config_test;
using fields::Info;
using fields::Limit;
using fields::Override;

// A default value as written in the file.
std::string toml_value(const std::filesystem::path& p) { return fmt::format("\"{}\"", p.string()); }
std::string toml_value(const std::string& s) { return fmt::format("\"{}\"", s); }
std::string toml_value(bool b) { return b ? "true" : "false"; }
std::string toml_value(std::chrono::seconds s) { return std::to_string(s.count()); }
std::string toml_value(std::integral auto v) { return std::to_string(v); }
std::string toml_value(const std::set<std::string>& names) {
  std::vector<std::string> quoted;
  for (const std::string& n : names) quoted.push_back(toml_value(n));
  return fmt::format("[{}]", fmt::join(quoted, ", "));
}

std::string code_list(const std::vector<std::string_view>& names) {
  std::vector<std::string> out;
  for (std::string_view n : names) out.push_back(fmt::format("`{}`", n));
  return fmt::format("{}", fmt::join(out, ", "));
}

// What a key accepts, in the documentation's words.
std::string accepts(const rules::Int& r, const auto&) {
  return fmt::format("an integer from {} to {}", r.min, r.max);
}
std::string accepts(const rules::Enum& e, const std::string&) {
  return "one of " + code_list(e.names);
}
std::string accepts(const rules::Enum& e, const std::set<std::string>&) {
  return "an array of " + code_list(e.names);
}
std::string accepts(const rules::Path& r, const auto&) {
  return r.exec ? "an absolute path to an executable file" : "an absolute path to a readable file";
}
std::string accepts(const rules::Dir&, const auto&) {
  return "an absolute path to a directory (created when missing)";
}
std::string accepts(const rules::Params&, const auto&) { return "printable ASCII"; }
std::string accepts(const rules::Bool&, const auto&) { return "`true` or `false`"; }
std::string accepts(const rules::Cgroup&, const auto&) {
  return "a path below the cgroup root, or `\"\"` for none";
}

// How a pod's annotation may change a key, in the documentation's words.
std::string annotation(Info info, Limit limit) {
  std::string name = fmt::format("`{}{}`", kAnnotationPrefix, info.name);
  switch (info.override) {
    case Override::None:
      return "none";
    case Override::FileOnly:
      return name + " is refused";
    case Override::Allowed:
      return name + " if allowed" +
             (limit.rule ? fmt::format(", up to `{}`", limit.rule->key) : std::string());
    case Override::Appended:
      return fmt::format("{} appends, if `{}`", name, rules::kAnnotationKernelParams.key);
  }
  return "?";
}

// The rows of the documentation's table of keys, from the field table and
// default_config().
std::vector<std::string> table_rows() {
  std::vector<std::string> rows;
  const RuntimeConfig d = default_config();
  auto row = [&](const auto& rule, const auto& member, Info info, Limit limit = {}) {
    std::string value =
        info.doc_default ? std::string(info.doc_default) : "`" + toml_value(member) + "`";
    rows.push_back(fmt::format("| `{}` | {} | {} | {} |", rule.key, value, annotation(info, limit),
                               accepts(rule, member)));
  };
  fields::visit_fields(row, d);
  return rows;
}

std::vector<std::string> documented_rows() {
  std::ifstream doc(VMRT_CONFIG_DOC);
  EXPECT_TRUE(doc) << VMRT_CONFIG_DOC;
  std::vector<std::string> rows;
  for (std::string line; std::getline(doc, line);)
    if (line.starts_with("| `")) rows.push_back(line);
  return rows;
}

TEST(RuntimeConfigFields, TheDocumentationListsExactlyTheTablesKeys) {
  std::vector<std::string> rows = table_rows();
  EXPECT_EQ(documented_rows(), rows)
      << "docs/configuration.md's table of keys should read:\n"
      << "| Key | Default | Pod annotation | Accepts |\n|---|---|---|---|\n"
      << fmt::format("{}", fmt::join(rows, "\n"));
}

// Each value the table's keys take by default, written as a file, reads back
// as the defaults: the parser knows every key of the table.
TEST(RuntimeConfigFields, EveryKeyReadsBackItsDefault) {
  const RuntimeConfig d = default_config();
  std::map<std::string, std::string> tables;
  auto line = [&](const auto& rule, const auto& member, Info, Limit = {}) {
    std::string_view key = rule.key;
    size_t dot = key.find('.');
    tables[std::string(key.substr(0, dot))] +=
        fmt::format("{} = {}\n", key.substr(dot + 1), toml_value(member));
  };
  fields::visit_fields(line, d);
  std::string text;
  for (const auto& [table, keys] : tables) text += fmt::format("[{}]\n{}", table, keys);
  RuntimeConfig expected = d;
  expected.source = kFile;
  EXPECT_EQ(parse_config(text, kFile, RuntimeConfig{}), expected) << text;
}

// The annotation names of the table with the given overrides.
std::set<std::string> annotation_names(std::set<Override> overrides) {
  std::set<std::string> names;
  auto name = [&](const auto&, const auto&, Info info, Limit = {}) {
    if (overrides.count(info.override)) names.insert(info.name);
  };
  const RuntimeConfig d = default_config();
  fields::visit_fields(name, d);
  return names;
}

TEST(RuntimeConfigFields, AnnotationsAllowedTakesTheAllowedAnnotations) {
  std::set<std::string> allowable(rules::kAllowable.names.begin(), rules::kAllowable.names.end());
  EXPECT_EQ(allowable, annotation_names({Override::Allowed}));
}

TEST(RuntimeConfigFields, TheUnknownAnnotationMessageListsTheTablesAnnotations) {
  std::string e = annotation_error({{"io.vmrt.config.nope", "1"}});
  size_t at = e.find("(known: ");
  ASSERT_NE(at, std::string::npos) << e;
  std::set<std::string> known;
  std::istringstream list(e.substr(at + 8, e.size() - at - 9));
  for (std::string name; std::getline(list >> std::ws, name, ',');) known.insert(name);
  EXPECT_EQ(known, annotation_names({Override::Allowed, Override::Appended}));
}

TEST(RuntimeConfigFields, JsonHasTheTablesNamesAndTheSource) {
  std::set<std::string> names =
      annotation_names({Override::None, Override::FileOnly, Override::Allowed, Override::Appended});
  names.insert("source");
  std::set<std::string> keys;
  const nlohmann::json j = to_json(default_config());
  for (const auto& [key, value] : j.items()) keys.insert(key);
  EXPECT_EQ(keys, names);
}

}  // namespace
}  // namespace vmrt::sandbox
