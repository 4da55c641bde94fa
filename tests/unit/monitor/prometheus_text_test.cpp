// The Prometheus text writer: families grouped with their HELP and TYPE,
// names checked, label values and help escaped as the 0.0.4 format says.

#include "monitor/prometheus_text.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/error.h"

namespace vmrt::monitor {
namespace {

TEST(PrometheusText, GroupsSamplesUnderOneHelpAndType) {
  MetricSet m;
  m.add("a_total", MetricType::Counter, "things", {{"sandbox", "p1"}}, 3);
  m.add("b", MetricType::Gauge, "level", {}, 1.5);
  m.add("a_total", MetricType::Counter, "things", {{"sandbox", "p2"}}, 4);
  EXPECT_EQ(m.text(),
            "# HELP a_total things\n# TYPE a_total counter\n"
            "a_total{sandbox=\"p1\"} 3\na_total{sandbox=\"p2\"} 4\n"
            "# HELP b level\n# TYPE b gauge\nb 1.5\n");
}

TEST(PrometheusText, AppendKeepsFamiliesTogether) {
  MetricSet all, vm1, vm2;
  all.add("pods", MetricType::Gauge, "pods", {}, 2);
  vm1.add("x_total", MetricType::Counter, "x", {{"sandbox", "1"}}, 1);
  vm1.add("y", MetricType::Gauge, "y", {{"sandbox", "1"}}, 2);
  vm2.add("y", MetricType::Gauge, "y", {{"sandbox", "2"}}, 3);
  vm2.add("x_total", MetricType::Counter, "x", {{"sandbox", "2"}}, 4);
  all.append(vm1);
  all.append(vm2);
  EXPECT_EQ(all.text(),
            "# HELP pods pods\n# TYPE pods gauge\npods 2\n"
            "# HELP x_total x\n# TYPE x_total counter\n"
            "x_total{sandbox=\"1\"} 1\nx_total{sandbox=\"2\"} 4\n"
            "# HELP y y\n# TYPE y gauge\ny{sandbox=\"1\"} 2\ny{sandbox=\"2\"} 3\n");
}

TEST(PrometheusText, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
  EXPECT_EQ(escape_help("a\\b\"c\nd"), "a\\\\b\"c\\nd");
  MetricSet m;
  m.add("m", MetricType::Gauge, "two\nlines", {{"l", "say \"hi\"\n"}}, 1);
  EXPECT_EQ(m.text(), "# HELP m two\\nlines\n# TYPE m gauge\nm{l=\"say \\\"hi\\\"\\n\"} 1\n");
}

TEST(PrometheusText, ChecksNames) {
  EXPECT_TRUE(valid_metric_name("vmrt_vmm:rate5m"));
  EXPECT_TRUE(valid_metric_name("_x9"));
  EXPECT_FALSE(valid_metric_name(""));
  EXPECT_FALSE(valid_metric_name("9x"));
  EXPECT_FALSE(valid_metric_name("a-b"));
  EXPECT_FALSE(valid_metric_name("a b"));
  EXPECT_TRUE(valid_label_name("sandbox"));
  EXPECT_FALSE(valid_label_name("a:b"));
  EXPECT_FALSE(valid_label_name("__name__"));
  EXPECT_FALSE(valid_label_name("1a"));

  MetricSet m;
  EXPECT_THROW(m.add("a b", MetricType::Gauge, "", {}, 1), Error);
  EXPECT_THROW(m.add("ok", MetricType::Gauge, "", {{"bad-label", "v"}}, 1), Error);
  // Nothing half-declared is left by a refused sample.
  EXPECT_TRUE(m.empty());
  m.add("ok", MetricType::Gauge, "", {}, 1);
  EXPECT_THROW(m.add("ok", MetricType::Counter, "", {}, 1), Error);
}

TEST(PrometheusText, FormatsValues) {
  EXPECT_EQ(format_value(0), "0");
  EXPECT_EQ(format_value(5120), "5120");
  EXPECT_EQ(format_value(-3), "-3");
  EXPECT_EQ(format_value(0.25), "0.25");
  EXPECT_EQ(format_value(134217728), "134217728");
  EXPECT_EQ(format_value(std::nan("")), "NaN");
  EXPECT_EQ(format_value(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_value(-std::numeric_limits<double>::infinity()), "-Inf");
  // Past 2^53, in the exponent form Prometheus reads back.
  EXPECT_EQ(format_value(1e20), "1e+20");
}

}  // namespace
}  // namespace vmrt::monitor
