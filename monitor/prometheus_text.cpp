#include "monitor/prometheus_text.h"

#include <fmt/format.h>

#include <cmath>

#include "common/error.h"

namespace vmrt::monitor {
namespace {

bool name_char(char c, bool first, bool colon) {
  bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
  return alpha || (!first && c >= '0' && c <= '9');
}

bool valid_name(std::string_view name, bool colon) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i)
    if (!name_char(name[i], i == 0, colon)) return false;
  return true;
}

// Backslash and newline escaped, and double quotes when `quotes`.
std::string escape(std::string_view text, bool quotes) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\' || (quotes && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

const char* type_name(MetricType t) { return t == MetricType::Counter ? "counter" : "gauge"; }

}  // namespace

bool valid_metric_name(std::string_view name) { return valid_name(name, true); }

bool valid_label_name(std::string_view name) {
  return valid_name(name, false) && !name.starts_with("__");
}

std::string escape_label_value(std::string_view value) { return escape(value, true); }

std::string escape_help(std::string_view help) { return escape(help, false); }

std::string format_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Exact integers (every counter below 2^53) without an exponent or a
  // fraction: what a reader of the page expects to see.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0)
    return fmt::format("{}", static_cast<int64_t>(value));
  return fmt::format("{}", value);
}

MetricSet::Family& MetricSet::family(const std::string& name, MetricType type,
                                     std::string_view help) {
  auto it = index_.find(name);
  if (it == index_.end()) {
    it = index_.emplace(name, families_.size()).first;
    families_.push_back({name, type, std::string(help), {}});
  }
  Family& f = families_[it->second];
  if (f.type != type)
    fail("metric {} added as a {} and as a {}", name, type_name(f.type), type_name(type));
  return f;
}

void MetricSet::append(const MetricSet& other) {
  for (const Family& theirs : other.families_) {
    Family& f = family(theirs.name, theirs.type, theirs.help);
    f.samples.insert(f.samples.end(), theirs.samples.begin(), theirs.samples.end());
  }
}

void MetricSet::add(const std::string& name, MetricType type, std::string_view help,
                    const Labels& labels, double value) {
  if (!valid_metric_name(name)) fail("metric name \"{}\" is not allowed", name);
  std::string line = name;
  if (!labels.empty()) {
    line += '{';
    for (size_t i = 0; i < labels.size(); ++i) {
      if (!valid_label_name(labels[i].first))
        fail("metric {}: label name \"{}\" is not allowed", name, labels[i].first);
      if (i) line += ',';
      line += labels[i].first + "=\"" + escape_label_value(labels[i].second) + '"';
    }
    line += '}';
  }
  line += ' ';
  line += format_value(value);
  // Declared only once the sample is known to be good.
  family(name, type, help).samples.push_back(std::move(line));
}

std::string MetricSet::text() const {
  std::string out;
  for (const Family& f : families_) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, escape_help(f.help), f.name,
                       type_name(f.type));
    for (const auto& s : f.samples) {
      out += s;
      out += '\n';
    }
  }
  return out;
}

}  // namespace vmrt::monitor
