// A strict reader of the Prometheus text exposition format (0.0.4), for the
// tests of /metrics: every line must be a HELP, a TYPE, another comment, a
// blank line or a valid sample, label values must be correctly escaped, and
// every sample must belong to a family announced by both HELP and TYPE
// before it (a counter's samples named as the family; the family's samples
// in one block).
#pragma once

#include <map>
#include <string>
#include <vector>

namespace gms::test {

struct PromSample {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

struct PromFamily {
  std::string help, type;
  std::vector<PromSample> samples;
};

struct PromText {
  std::map<std::string, PromFamily> families;
  std::vector<std::string> errors;  // "line N: why"; empty when the text is valid

  // The value of the sample `name` with exactly `labels`; NaN when absent.
  double value(const std::string& name, const std::map<std::string, std::string>& labels = {}) const;
};

PromText parse_prom_text(const std::string& text);

}  // namespace gms::test
