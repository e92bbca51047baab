#include "prom_text.h"

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <string_view>

namespace gms::test {
namespace {

bool name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':'; }
bool name_char(char c) { return name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

bool valid_name(const std::string& n, bool label) {
  if (n.empty() || !name_start(n[0]) || (label && n[0] == ':'))
    return false;
  for (char c : n)
    if (!name_char(c) || (label && c == ':'))
      return false;
  return true;
}

// A float as the format writes it (Go's ParseFloat plus +Inf, -Inf, NaN).
bool parse_value(const std::string& s, double& v) {
  if (s == "+Inf" || s == "Inf") {
    v = INFINITY;
    return true;
  }
  if (s == "-Inf") {
    v = -INFINITY;
    return true;
  }
  if (s == "NaN") {
    v = NAN;
    return true;
  }
  if (s.empty())
    return false;
  for (char c : s)
    if (!(std::isdigit(static_cast<unsigned char>(c)) || c == '.' || c == 'e' || c == 'E' || c == '+' ||
          c == '-'))
      return false;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

class LineReader {
 public:
  explicit LineReader(const std::string& l) : l_(l) {}
  bool at_end() const { return i_ >= l_.size(); }
  char peek() const { return at_end() ? '\0' : l_[i_]; }
  bool eat(char c) {
    if (peek() != c)
      return false;
    ++i_;
    return true;
  }
  std::string name() {
    size_t s = i_;
    while (!at_end() && name_char(l_[i_]))
      ++i_;
    return l_.substr(s, i_ - s);
  }
  // A quoted label value with \\, \" and \n as its only escapes.
  bool quoted(std::string& out) {
    if (!eat('"'))
      return false;
    while (!at_end()) {
      char c = l_[i_++];
      if (c == '"')
        return true;
      if (c == '\\') {
        if (at_end())
          return false;
        char e = l_[i_++];
        if (e == 'n')
          out += '\n';
        else if (e == '\\' || e == '"')
          out += e;
        else
          return false;
      } else {
        out += c;
      }
    }
    return false;
  }
  std::string rest() const { return l_.substr(std::min(i_, l_.size())); }

 private:
  const std::string& l_;
  size_t i_ = 0;
};

// "name{a="x",b="y"} 1.5 [timestamp]"
bool parse_sample(const std::string& line, PromSample& s, std::string& why) {
  LineReader r(line);
  s.name = r.name();
  if (!valid_name(s.name, false)) {
    why = "bad metric name";
    return false;
  }
  if (r.eat('{')) {
    while (!r.eat('}')) {
      std::string label = r.name();
      if (!valid_name(label, true) || !r.eat('=')) {
        why = "bad label name";
        return false;
      }
      std::string value;
      if (!r.quoted(value)) {
        why = "bad label value (quoting or escape)";
        return false;
      }
      if (!s.labels.emplace(label, value).second) {
        why = "label " + label + " twice";
        return false;
      }
      if (r.peek() != '}' && !r.eat(',')) {
        why = "labels not separated by commas";
        return false;
      }
    }
  }
  if (!r.eat(' ')) {
    why = "no space before the value";
    return false;
  }
  std::istringstream rest(r.rest());
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!parse_value(value, s.value)) {
    why = "bad value '" + value + "'";
    return false;
  }
  if (!timestamp.empty()) {
    double ts = 0;
    if (!parse_value(timestamp, ts) || timestamp.find_first_not_of("-0123456789") != std::string::npos) {
      why = "bad timestamp";
      return false;
    }
  }
  if (!extra.empty()) {
    why = "text after the sample";
    return false;
  }
  return true;
}

// The family a sample belongs to: its name, or for histograms and
// summaries the name without its suffix.
std::string family_of(const std::string& sample, const std::map<std::string, PromFamily>& fams) {
  if (fams.count(sample))
    return sample;
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string sfx = suffix;
    if (sample.size() > sfx.size() && sample.compare(sample.size() - sfx.size(), sfx.size(), sfx) == 0) {
      std::string base = sample.substr(0, sample.size() - sfx.size());
      auto it = fams.find(base);
      if (it != fams.end() && (it->second.type == "histogram" || it->second.type == "summary"))
        return base;
    }
  }
  return {};
}

}  // namespace

double PromText::value(const std::string& name, const std::map<std::string, std::string>& labels) const {
  for (const auto& [fname, f] : families)
    for (const auto& s : f.samples)
      if (s.name == name && s.labels == labels)
        return s.value;
  return NAN;
}

PromText parse_prom_text(const std::string& text) {
  PromText out;
  std::set<std::string> closed;  // families whose block of samples ended
  std::string current;
  std::istringstream in(text);
  std::string line;
  size_t n = 0;
  auto error = [&](const std::string& why) { out.errors.push_back("line " + std::to_string(n) + ": " + why); };
  if (!text.empty() && text.back() != '\n')
    out.errors.push_back("the text does not end with a newline");
  while (std::getline(in, line)) {
    ++n;
    if (line.empty())
      continue;
    if (line[0] == '#') {
      std::istringstream words(line);
      std::string hash, kind, name;
      words >> hash >> kind >> name;
      if (hash != "#" || (kind != "HELP" && kind != "TYPE"))
        continue;  // a plain comment
      if (!valid_name(name, false)) {
        error("bad family name in " + kind);
        continue;
      }
      if (closed.count(name) || (!current.empty() && current != name && out.families.count(name)))
        error(name + ": its lines are not in one block");
      if (current != name && !current.empty())
        closed.insert(current);
      current = name;
      PromFamily& f = out.families[name];
      std::string rest;
      std::getline(words, rest);
      if (!rest.empty() && rest[0] == ' ')
        rest.erase(0, 1);
      if (kind == "HELP") {
        if (!f.help.empty())
          error(name + ": HELP twice");
        f.help = rest.empty() ? " " : rest;
      } else {
        static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                     "untyped"};
        if (!f.type.empty())
          error(name + ": TYPE twice");
        if (!kTypes.count(rest))
          error(name + ": unknown type '" + rest + "'");
        if (!f.samples.empty())
          error(name + ": TYPE after its samples");
        f.type = rest;
      }
      continue;
    }
    PromSample s;
    std::string why;
    if (!parse_sample(line, s, why)) {
      error(why + ": " + line);
      continue;
    }
    std::string fam = family_of(s.name, out.families);
    if (fam.empty()) {
      error(s.name + ": sample of no announced family");
      continue;
    }
    if (fam != current)
      error(s.name + ": sample outside its family's block");
    PromFamily& f = out.families[fam];
    if (f.help.empty() || f.type.empty())
      error(fam + ": sample before its HELP and TYPE");
    for (const auto& other : f.samples)
      if (other.name == s.name && other.labels == s.labels)
        error(s.name + ": the same series twice");
    f.samples.push_back(std::move(s));
  }
  for (const auto& [name, f] : out.families) {
    if (f.help.empty())
      out.errors.push_back(name + ": no HELP");
    if (f.type.empty())
      out.errors.push_back(name + ": no TYPE");
    if (f.type == "counter" && !std::string_view(name).ends_with("_total"))
      out.errors.push_back(name + ": a counter whose name does not end in _total");
  }
  return out;
}

}  // namespace gms::test
