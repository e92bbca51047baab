#include "core/transport_check.h"

#include <glib.h>

#include <cstdint>
#include <vector>

#include "gms/pattern.h"

namespace gms {
namespace {

// The library's line buffer: a header line this long may have been cut.
constexpr size_t kMaxLine = 4000;

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t at = s.find(sep, start);
    out.push_back(s.substr(start, at == std::string::npos ? std::string::npos : at - start));
    if (at == std::string::npos)
      return out;
    start = at + 1;
  }
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// A port or channel number: 1 to 5 digits.
bool number_ok(const std::string& v) {
  return !v.empty() && v.size() <= 5 && v.find_first_not_of("0123456789") == std::string::npos;
}

// "N" or "N-M" with lo <= N <= M <= hi.
bool range_ok(const std::string& v, unsigned lo, unsigned hi) {
  size_t dash = v.find('-');
  std::string first = v.substr(0, dash);
  std::string second = dash == std::string::npos ? first : v.substr(dash + 1);
  if (!number_ok(first) || !number_ok(second))
    return false;
  unsigned a = unsigned(std::stoul(first));
  unsigned b = unsigned(std::stoul(second));
  return a >= lo && b <= hi && b >= a;
}

bool uint_ok(const std::string& v, unsigned hi) {
  return number_ok(v) && std::stoul(v) <= hi;
}

bool parameter_ok(const std::string& param, std::string& why) {
  size_t eq = param.find('=');
  gchar* low = g_ascii_strdown(param.substr(0, eq).c_str(), -1);
  std::string name = low;
  g_free(low);
  std::string value = eq == std::string::npos ? std::string() : param.substr(eq + 1);
  bool ok = true;
  if (name == "client_port" || name == "port" || name == "server_port")
    ok = range_ok(value, 1, 65535);
  else if (name == "interleaved")
    ok = range_ok(value, 0, 255);
  else if (name == "ttl")
    ok = uint_ok(value, 255);
  else if (name == "layers")
    ok = uint_ok(value, 255) && value != "0";
  else if (name == "ssrc")
    ok = !value.empty() && value.size() <= 8 &&
         value.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos;
  if (!ok)
    why = "bad " + name + "=" + value.substr(0, 32);
  return ok;
}

bool alternative_ok(const std::string& alt, std::string& why) {
  static const Pattern spec("^RTP/S?AVPF?(/(UDP|TCP))?$", G_REGEX_CASELESS);
  std::vector<std::string> parts = split(alt, ';');
  if (!spec.found_in(trim(parts[0]))) {
    why = "unknown transport '" + trim(parts[0]).substr(0, 32) + "'";
    return false;
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    std::string p = trim(parts[i]);
    if (!p.empty() && !parameter_ok(p, why))
      return false;
  }
  return true;
}

}  // namespace

bool transport_header_ok(const std::string& value, std::string& why) {
  if (value.size() >= kMaxLine) {
    why = "header too long (" + std::to_string(value.size()) + " bytes)";
    return false;
  }
  std::vector<std::string> alts = split(value, ',');
  if (alts.size() > kMaxTransportAlternatives) {
    why = std::to_string(alts.size()) + " alternatives";
    return false;
  }
  for (const auto& a : alts)
    if (!alternative_ok(a, why))
      return false;
  return true;
}

}  // namespace gms
