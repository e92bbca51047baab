#include "config/value_parsers.h"

#include <gio/gio.h>
#include <gst/rtsp/gstrtspurl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include <gst-mediaserver/config.h>

#include "gms/ref.h"

namespace gms {

bool parse_bool(const std::string& v, bool& out, std::string& reason) {
  std::string l = v;
  std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return g_ascii_tolower(c); });
  if (l == "true" || l == "yes" || l == "1" || l == "on") {
    out = true;
    return true;
  }
  if (l == "false" || l == "no" || l == "0" || l == "off") {
    out = false;
    return true;
  }
  reason = "'" + v + "' is not a boolean (use true or false)";
  return false;
}

bool parse_uint(const std::string& v, uint64_t min, uint64_t max, uint64_t& out,
                std::string& reason) {
  uint64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (v.empty() || ec != std::errc() || p != v.data() + v.size()) {
    reason = "'" + v + "' is not a whole number";
    return false;
  }
  if (n < min || n > max) {
    reason = "'" + v + "' is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")";
    return false;
  }
  out = n;
  return true;
}

bool check_rtsp_url(const std::string& v, std::string& reason) {
  GstRTSPUrl* url = nullptr;
  bool ok = gst_rtsp_url_parse(v.c_str(), &url) == GST_RTSP_OK && url && url->host && *url->host;
  if (url)
    gst_rtsp_url_free(url);
  if (!ok)
    reason = "'" + v + "' is not an rtsp:// URL with a host";
  return ok;
}

bool check_address(const std::string& v, std::string& reason) {
  auto a = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(v.c_str()));
  if (!a) {
    reason = "'" + v + "' is not an IP address";
    return false;
  }
  return true;
}

bool parse_protocols(const std::string& v, unsigned& out, std::string& reason) {
  GStrvPtr parts(g_strsplit_set(v.c_str(), ", ", -1));
  unsigned flags = 0;
  for (gchar** p = parts.get(); *p; ++p) {
    std::string w = *p;
    if (w.empty())
      continue;
    if (w == "udp")
      flags |= kProtoUdp;
    else if (w == "tcp")
      flags |= kProtoTcp;
    else if (w == "udp-mcast" || w == "multicast")
      flags |= kProtoUdpMcast;
    else {
      reason = "unknown protocol '" + w + "' (use udp, tcp, udp-mcast)";
      return false;
    }
  }
  if (flags == 0) {
    reason = "no protocol given (use udp, tcp, udp-mcast)";
    return false;
  }
  out = flags;
  return true;
}

namespace {
bool split_range(const std::string& v, std::string& a, std::string& b) {
  auto dash = v.find('-');
  if (dash == std::string::npos) {
    a = b = v;
    return true;
  }
  a = v.substr(0, dash);
  b = v.substr(dash + 1);
  return !a.empty() && !b.empty();
}
}  // namespace

bool parse_ipv4_range(const std::string& v, std::string& min, std::string& max,
                      std::string& reason) {
  std::string a, b;
  if (!split_range(v, a, b)) {
    reason = "expected ADDRESS or ADDRESS-ADDRESS";
    return false;
  }
  auto lo = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(a.c_str()));
  auto hi = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(b.c_str()));
  if (!lo || !hi || g_inet_address_get_family(lo.get()) != g_inet_address_get_family(hi.get())) {
    reason = "'" + v + "' is not an address range";
    return false;
  }
  if (!g_inet_address_get_is_multicast(lo.get()) || !g_inet_address_get_is_multicast(hi.get())) {
    reason = "'" + v + "' is not a multicast range";
    return false;
  }
  if (g_inet_address_get_native_size(lo.get()) != g_inet_address_get_native_size(hi.get()) ||
      memcmp(g_inet_address_to_bytes(lo.get()), g_inet_address_to_bytes(hi.get()),
             g_inet_address_get_native_size(lo.get())) > 0) {
    reason = "the first address of '" + v + "' is above the last";
    return false;
  }
  min = a;
  max = b;
  return true;
}

bool parse_port_range(const std::string& v, uint16_t& min, uint16_t& max, std::string& reason) {
  std::string a, b;
  uint64_t lo = 0, hi = 0;
  if (!split_range(v, a, b) || !parse_uint(a, 1024, 65535, lo, reason) ||
      !parse_uint(b, 1024, 65535, hi, reason)) {
    if (reason.empty())
      reason = "expected PORT-PORT";
    reason = "port range: " + reason;
    return false;
  }
  if (lo > hi) {
    reason = "the first port of '" + v + "' is above the last";
    return false;
  }
  min = static_cast<uint16_t>(lo);
  max = static_cast<uint16_t>(hi);
  return true;
}

bool check_path_name(const std::string& v, std::string& reason, bool allow_pattern) {
  if (!v.empty() && v.back() == '*') {
    if (!allow_pattern) {
      reason = "a name ending in '*' is only for publish and proxy paths";
      return false;
    }
    std::string prefix = v.substr(0, v.size() - 1);
    if (prefix.size() > 1 && prefix.back() == '/')
      prefix.pop_back();
    if (prefix.empty() || prefix == "/") {
      reason = "'" + v + "' would take every path; give a prefix such as /live/*";
      return false;
    }
    if (prefix.find('*') != std::string::npos) {
      reason = "'*' is allowed only at the end of a path";
      return false;
    }
    return check_path_name(prefix, reason, false);
  }
  if (v.empty() || v[0] != '/') {
    reason = "a path must start with '/'";
    return false;
  }
  if (v == "/") {
    reason = "'/' would take every request; name the path";
    return false;
  }
  if (v.size() > 255) {
    reason = "a path is at most 255 characters";
    return false;
  }
  for (unsigned char c : v) {
    if (!(g_ascii_isalnum(c) || c == '/' || c == '-' || c == '_' || c == '.' || c == '~')) {
      reason = std::string("character '") + (g_ascii_isprint(c) ? std::string(1, c) : "?") +
               "' is not allowed in a path (letters, digits, / - _ . ~)";
      return false;
    }
  }
  if (v.back() == '/' || v.find("//") != std::string::npos) {
    reason = "a path has no empty segment or trailing '/'";
    return false;
  }
  GStrvPtr segs(g_strsplit(v.c_str() + 1, "/", -1));
  for (gchar** s = segs.get(); *s; ++s) {
    if (g_str_equal(*s, ".") || g_str_equal(*s, "..")) {
      reason = "a path has no '.' or '..' segment";
      return false;
    }
  }
  return true;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  std::string best;
  size_t best_d = 4;
  for (const auto& c : candidates) {
    std::vector<size_t> prev(c.size() + 1), cur(c.size() + 1);
    for (size_t j = 0; j <= c.size(); ++j)
      prev[j] = j;
    for (size_t i = 1; i <= word.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= c.size(); ++j) {
        size_t sub = prev[j - 1] + (word[i - 1] == c[j - 1] ? 0 : 1);
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
      }
      std::swap(prev, cur);
    }
    if (prev[c.size()] < best_d) {
      best_d = prev[c.size()];
      best = c;
    }
  }
  return best;
}

std::string strip_parentheses(const std::string& launch) {
  std::string s = launch;
  auto b = s.find_first_not_of(" \t");
  auto e = s.find_last_not_of(" \t");
  if (b == std::string::npos)
    return {};
  s = s.substr(b, e - b + 1);
  if (s.size() < 2 || s.front() != '(' || s.back() != ')')
    return s;
  // Only strip when the opening parenthesis closes at the very end.
  int depth = 0;
  bool quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"' && (i == 0 || s[i - 1] != '\\'))
      quoted = !quoted;
    if (quoted)
      continue;
    if (c == '(')
      ++depth;
    else if (c == ')' && --depth == 0 && i != s.size() - 1)
      return s;
  }
  std::string inner = s.substr(1, s.size() - 2);
  auto ib = inner.find_first_not_of(" \t");
  auto ie = inner.find_last_not_of(" \t");
  return ib == std::string::npos ? std::string() : inner.substr(ib, ie - ib + 1);
}

}  // namespace gms

namespace gms {

bool resolve_root_dir(const std::string& value, const std::string& base_dir, std::string& out,
                      std::string& reason) {
  if (value.empty()) {
    reason = "empty directory name";
    return false;
  }
  // g_canonicalize_filename wants an absolute base: anchor a relative one
  // (such as "." for "site.conf") at the working directory.
  GCharPtr base(g_canonicalize_filename(base_dir.empty() ? "." : base_dir.c_str(), nullptr));
  GCharPtr abs(g_canonicalize_filename(value.c_str(), base.get()));
  out = abs.get();
  if (!g_file_test(out.c_str(), G_FILE_TEST_IS_DIR)) {
    reason = "'" + out + "' is not a directory" +
             (g_file_test(out.c_str(), G_FILE_TEST_EXISTS) ? "" : " (it does not exist)");
    return false;
  }
  if (g_access(out.c_str(), R_OK | X_OK) != 0) {
    reason = "'" + out + "' is not readable";
    return false;
  }
  return true;
}

bool check_record_dir(std::string& value, const std::string& base_dir, std::string& reason) {
  if (value.empty()) {
    reason = "empty directory";
    return false;
  }
  std::string abs = value;
  if (!g_path_is_absolute(abs.c_str())) {
    GCharPtr cwd(g_get_current_dir());
    GCharPtr joined(g_build_filename(base_dir.empty() ? cwd.get() : base_dir.c_str(), abs.c_str(),
                                     nullptr));
    abs = joined.get();
  }
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  // (A fuzzer feeds millions of random names: it checks them, it must not
  // leave them on the disk.)
  if (g_mkdir_with_parents(abs.c_str(), 0755) != 0) {
    reason = "cannot create '" + abs + "': " + g_strerror(errno);
    return false;
  }
#endif
  if (!g_file_test(abs.c_str(), G_FILE_TEST_IS_DIR) || g_access(abs.c_str(), W_OK | X_OK) != 0) {
    reason = "'" + abs + "' is not a writable directory";
    return false;
  }
  value = abs;
  return true;
}

}  // namespace gms
