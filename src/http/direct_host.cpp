#include "http/direct_host.h"

#include <gio/gio.h>

#include <string>

namespace gms::http {

namespace {

// The host part of a Host header: "[::1]:8080" -> "::1", "a:80" -> "a".
std::string host_part(const std::string& h) {
  if (!h.empty() && h.front() == '[') {
    auto end = h.find(']');
    return end == std::string::npos ? std::string() : h.substr(1, end - 1);
  }
  auto colon = h.find(':');
  if (colon != std::string::npos && h.find(':', colon + 1) != std::string::npos)
    return h;  // an IPv6 address without brackets (not valid HTTP, still an address)
  return h.substr(0, colon);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

bool direct_host(const char* host) {
  if (!host || !*host)
    return true;
  std::string name = host_part(host);
  if (name.empty())
    return false;
  if (g_hostname_is_ip_address(name.c_str()))
    return true;
  gchar* lower = g_ascii_strdown(name.c_str(), -1);
  std::string n = lower;
  g_free(lower);
  if (!n.empty() && n.back() == '.')  // "localhost." is localhost too
    n.pop_back();
  return n == "localhost" || ends_with(n, ".localhost");
}

}  // namespace gms::http
