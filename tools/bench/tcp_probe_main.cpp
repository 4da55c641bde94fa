// tcp_probe: one measurement of tcp_probe.h from the command line, for the
// benchmark scripts (vm_network.sh); prints the figure alone. Not a test.
//
//   tcp_probe rtt IP PORT MESSAGES     median round trip, microseconds
//   tcp_probe sink IP PORT MIB         host -> server throughput, MiB/s

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "tools/bench/tcp_probe.h"

int main(int argc, char** argv) {
  CLI::App app{"TCP round trip to an echo server, or throughput into a sink"};
  app.require_subcommand(1);
  std::string ip;
  int port = 0, count = 0;
  for (auto [name, what, unit] : {std::tuple{"rtt", "median round trip (us)", "MESSAGES"},
                                  std::tuple{"sink", "throughput (MiB/s)", "MIB"}}) {
    auto* sub = app.add_subcommand(name, what);
    sub->add_option("ip", ip, "IPv4 address")->required();
    sub->add_option("port", port, "TCP port")->required()->check(CLI::Range(1, 65535));
    sub->add_option(unit, count, unit)->required()->check(CLI::Range(1, 1000000));
  }
  CLI11_PARSE(app, argc, argv);
  try {
    bool rtt = app.got_subcommand("rtt");
    double v =
        rtt ? vmrt::bench::rtt_us(ip, port, count) : vmrt::bench::throughput_mibs(ip, port, count);
    fmt::print("{:.1f}\n", v);
  } catch (const std::exception& e) {
    fmt::print(stderr, "tcp_probe: {}\n", e.what());
    return 1;
  }
}
