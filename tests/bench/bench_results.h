// One scenario's rows for the comparison table of `./test.sh --bench`:
// each row a figure of gst-mediaserver and of the stock gst-rtsp-server
// program doing the same job, in the same run. Written as JSON into
// $GMS_BENCH_RESULTS_DIR/SCENARIO.json (tests/bench/collect.py joins them).
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gms::test {

struct BenchRow {
  BenchRow(std::string m, std::string u, bool lower, std::optional<double> o,
           std::optional<double> s, std::string n = "", std::optional<double> l = std::nullopt)
      : metric(std::move(m)), unit(std::move(u)), lower_is_better(lower), ours(o), stock(s),
        note(std::move(n)), live555(l) {}
  std::string metric;
  std::string unit;
  bool lower_is_better = true;
  std::optional<double> ours, stock;  // empty: not measured (failed)
  std::string note;
  std::optional<double> live555;  // where live555 ran the same job
};

class BenchResults {
 public:
  explicit BenchResults(std::string scenario) : scenario_(std::move(scenario)) {}
  void add(BenchRow row);
  // Prints the rows and writes the JSON file; false if it cannot be written.
  bool write() const;

 private:
  std::string scenario_;
  std::vector<BenchRow> rows_;
};

// True when GMS_BENCH_FULL is set: the long sweep.
bool bench_full();
// p-th quantile (0..1) of unsorted values; 0 for none.
double quantile(std::vector<double> v, double p);

}  // namespace gms::test
