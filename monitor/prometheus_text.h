#pragma once
// The Prometheus text exposition format, version 0.0.4: metric families
// with their # HELP and # TYPE lines, then one `name{labels} value` line per
// sample. A family's samples must be contiguous, so samples are gathered
// per family first and written out together.

#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vmrt::monitor {

enum class MetricType { Counter, Gauge };

// Label names and values, in the order written.
using Labels = std::vector<std::pair<std::string, std::string>>;

// What a scrape answers: families in the order first added, each family's
// samples in the order added.
class MetricSet {
 public:
  // Adds one sample to family `name`, declaring the family on first use.
  // Throws vmrt::Error for a name or label name the format does not allow,
  // or a family added again with another type (a bug of the caller).
  void add(const std::string& name, MetricType type, std::string_view help, const Labels& labels,
           double value);
  // Adds every sample of `other`, family by family: one family's samples
  // stay together whichever set they came from.
  void append(const MetricSet& other);
  // The exposition text; empty when nothing was added.
  std::string text() const;
  bool empty() const noexcept { return families_.empty(); }

 private:
  struct Family {
    std::string name;
    MetricType type;
    std::string help;
    std::vector<std::string> samples;  // rendered lines, without the newline
  };
  // `name`'s family, declared now if new; throws for another type.
  Family& family(const std::string& name, MetricType type, std::string_view help);
  std::vector<Family> families_;
  std::map<std::string, size_t, std::less<>> index_;  // name -> families_ slot
};

// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name);
// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved).
bool valid_label_name(std::string_view name);
// A label value between double quotes: backslash, double quote and newline
// escaped as \\, \" and \n.
std::string escape_label_value(std::string_view value);
// # HELP text: backslash and newline escaped.
std::string escape_help(std::string_view help);
// A sample value: integers as such, others in the shortest form that reads
// back the same; NaN, +Inf, -Inf as the format spells them.
std::string format_value(double value);

}  // namespace vmrt::monitor
