#include "core/first_request_check.h"

#include <glib.h>

#include <cstdint>
#include <string>
#include <vector>

#include "core/request_check.h"
#include "core/request_cseq.h"

namespace gms {
namespace {

struct Head {
  std::vector<std::string_view> lines;  // without their line ends
  size_t size = 0;                      // bytes, the empty line included
};

// The head's lines; nothing when the buffer holds no whole head.
std::optional<Head> read_head(std::string_view buffer) {
  Head h;
  for (size_t pos = 0;;) {
    size_t eol = buffer.find('\n', pos);
    if (eol == std::string_view::npos)
      return std::nullopt;
    std::string_view line = buffer.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    pos = eol + 1;
    if (line.empty() && !h.lines.empty()) {
      h.size = pos;
      return h;
    }
    if (!line.empty())
      h.lines.push_back(line);
  }
}

bool named(std::string_view line, std::string_view name) {
  return line.size() > name.size() && line[name.size()] == ':' &&
         g_ascii_strncasecmp(line.data(), name.data(), name.size()) == 0;
}

// The body length the head declares (0 without Content-Length); nothing
// when the Content-Length headers are not one plain number, or several
// different ones.
std::optional<size_t> declared_body(const Head& h) {
  std::optional<std::string_view> value;
  for (auto line : h.lines) {
    if (!named(line, "Content-Length"))
      continue;
    std::string_view v = line.substr(15);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
      v.remove_suffix(1);
    if (value && *value != v)
      return std::nullopt;
    value = v;
  }
  if (!value)
    return 0;
  if (value->empty() || value->find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  // Over 9 digits: over any limit (and no overflow here).
  if (value->size() > 9)
    return SIZE_MAX;
  return size_t(g_ascii_strtoull(std::string(*value).c_str(), nullptr, 10));
}

bool has_body(const Head& h) {
  for (auto line : h.lines)
    if (named(line, "Content-Length")) {
      std::string_view v = line.substr(15);
      for (char c : v)
        if (c != ' ' && c != '0')
          return true;
    }
  return false;
}

FirstRequestRefusal refuse(const Head& h, std::string_view status, std::string_view extra,
                           bool http, bool close) {
  std::optional<uint32_t> cseq;
  int cseq_lines = 0;
  for (auto line : h.lines)
    if (named(line, "CSeq") && cseq_lines++ == 0)
      cseq = parse_cseq_value(line.substr(5));
  std::string reply = std::string(http ? "HTTP/1.0 " : "RTSP/1.0 ") + std::string(status) + "\r\n";
  if (cseq && cseq_lines == 1 && !http)
    reply += "CSeq: " + std::to_string(*cseq) + "\r\n";
  reply += std::string(extra) + "Server: gst-mediaserver\r\nContent-Length: 0\r\n";
  if (close)
    reply += "Connection: close\r\n";
  reply += "\r\n";
  return {reply, h.size, close || has_body(h)};
}

}  // namespace

std::optional<FirstRequestRefusal> check_first_request(std::string_view buffer, size_t max_body) {
  std::optional<Head> head = read_head(buffer);
  if (!head)
    return std::nullopt;
  const Head& h = *head;
  std::string_view first = h.lines.front();
  std::string_view version = first.substr(first.rfind(' ') + 1);
  bool http = version.substr(0, 5) == "HTTP/";
  // A line past the library's cut.
  if (first.size() >= kLongestLine)
    return refuse(h, "414 Request-URI Too Large", "", http, true);
  for (size_t i = 1; i < h.lines.size(); ++i)
    if (h.lines[i].size() >= kLongestLine)
      return refuse(h, "431 Request Header Fields Too Large", "", http, true);
  std::string_view method = first.substr(0, first.find(' '));
  if (http) {
    if (method == "GET" || method == "POST")
      return std::nullopt;
    // Only the tunnel's verbs here.
    return refuse(h, "405 Method Not Allowed", "Allow: GET, POST\r\n", true, false);
  }
  // Not "METHOD URI RTSP/x.y" (a raw line end inside the URI, say): the
  // lines are not what the client meant; refused and closed.
  if (version.substr(0, 5) != "RTSP/" || first.find(' ') == first.rfind(' '))
    return refuse(h, "400 Bad Request", "", false, true);
  if (version != "RTSP/1.0" && version != "RTSP/2.0")
    return refuse(h, "505 RTSP Version Not Supported", "", false, false);
  std::optional<size_t> body = declared_body(h);
  if (!body)
    return refuse(h, "400 Bad Request", "", false, true);
  if (*body > max_body)
    return refuse(h, "413 Request Entity Too Large", "", false, true);
  int cseq_lines = 0;
  bool cseq_ok = false;
  for (auto line : h.lines)
    if (named(line, "CSeq") && cseq_lines++ == 0)
      cseq_ok = parse_cseq_value(line.substr(5)).has_value();
  if (cseq_lines != 1 || !cseq_ok)
    return refuse(h, "400 Bad Request", "", false, false);
  return std::nullopt;
}

size_t first_request_size(std::string_view buffer) {
  std::optional<Head> head = read_head(buffer);
  if (!head)
    return 0;
  std::string_view first = head->lines.front();
  if (first.substr(first.rfind(' ') + 1).substr(0, 5) == "HTTP/")
    return head->size;
  return head->size + declared_body(*head).value_or(0);
}

}  // namespace gms
