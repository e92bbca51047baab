#include "mounts/sdp_text_check.h"

#include <glib.h>

namespace gms::mounts {
namespace {

// Digits only, at most `max_digits` of them, and at most `max`.
bool plain_number(std::string_view s, size_t max_digits, guint64 max) {
  if (s.empty() || s.size() > max_digits)
    return false;
  guint64 n = 0;
  for (char c : s) {
    if (!g_ascii_isdigit(c))
      return false;
    n = n * 10 + guint64(c - '0');
  }
  return n <= max;
}

// "m=<media> <port>[/<count>] <proto> <fmt> ...": the port field.
std::string media_line_problem(std::string_view value) {
  size_t start = value.find(' ');
  if (start == std::string_view::npos)
    return "an m= line without a port";
  std::string_view rest = value.substr(start + 1);
  std::string_view port = rest.substr(0, rest.find(' '));
  std::string_view count;
  if (size_t slash = port.find('/'); slash != std::string_view::npos) {
    count = port.substr(slash + 1);
    port = port.substr(0, slash);
    if (!plain_number(count, 5, 65535))
      return "an m= line with a bad port count";
  }
  if (!plain_number(port, 5, 65535))
    return "an m= line with a port that is not 0-65535";
  return {};
}

// "b=<bwtype>:<bandwidth>".
std::string bandwidth_line_problem(std::string_view value) {
  size_t colon = value.find(':');
  if (colon == std::string_view::npos || colon == 0)
    return "a b= line without a type";
  std::string_view number = value.substr(colon + 1);
  while (!number.empty() && number.back() == ' ')
    number.remove_suffix(1);
  if (!plain_number(number, 9, 999999999))
    return "a b= line whose bandwidth is not a number of kbit/s";
  return {};
}

}  // namespace

std::string sdp_text_problem(std::string_view text) {
  unsigned number = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? text.size() : eol + 1;
    ++number;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.size() > kLongestSdpLine)
      return "line " + std::to_string(number) + " is longer than " +
             std::to_string(kLongestSdpLine) + " bytes";
    std::string why;
    if (line.substr(0, 2) == "m=")
      why = media_line_problem(line.substr(2));
    else if (line.substr(0, 2) == "b=")
      why = bandwidth_line_problem(line.substr(2));
    if (!why.empty())
      return "line " + std::to_string(number) + ": " + why;
  }
  return {};
}

}  // namespace gms::mounts
