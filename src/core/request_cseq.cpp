#include "core/request_cseq.h"

#include <glib.h>

namespace gms {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<uint32_t> parse_cseq_value(std::string_view v) {
  v = trim(v);
  // Nine digits always fit; a longer number is no client's counter.
  if (v.empty() || v.size() > 9)
    return std::nullopt;
  uint32_t n = 0;
  for (char c : v) {
    if (!g_ascii_isdigit(c))
      return std::nullopt;
    n = n * 10 + uint32_t(c - '0');
  }
  return n;
}

std::optional<uint32_t> request_cseq(std::string_view request) {
  // The request line first, then one header per line; the headers end at
  // the first empty line.
  size_t pos = request.find('\n');
  while (pos != std::string_view::npos) {
    size_t start = pos + 1;
    size_t end = request.find('\n', start);
    std::string_view line = request.substr(start, end == std::string_view::npos
                                                      ? std::string_view::npos
                                                      : end - start);
    if (trim(line).empty())
      return std::nullopt;
    constexpr std::string_view kName = "cseq:";
    if (line.size() >= kName.size() &&
        g_ascii_strncasecmp(line.data(), kName.data(), kName.size()) == 0)
      return end == std::string_view::npos && line.back() != '\r'
                 ? std::nullopt  // cut off: the number may go on
                 : parse_cseq_value(line.substr(kName.size()));
    pos = end;
  }
  return std::nullopt;
}

}  // namespace gms
