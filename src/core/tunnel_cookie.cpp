#include "core/tunnel_cookie.h"

#include <glib.h>
#include <sys/random.h>

#include <array>
#include <string_view>

#include "gms/ref.h"

namespace gms {
namespace {

constexpr size_t kHashDigits = 22;

const std::array<guint8, 32>& process_key() {
  static const std::array<guint8, 32> key = [] {
    std::array<guint8, 32> k{};
    size_t got = 0;
    while (got < k.size()) {
      ssize_t n = getrandom(k.data() + got, k.size() - got, 0);
      if (n > 0)
        got += size_t(n);
    }
    return k;
  }();
  return key;
}

std::string hashed(std::string_view peer, std::string_view cookie) {
  std::string text = std::string(peer) + '\n' + std::string(cookie);
  const auto& key = process_key();
  GCharPtr hex(g_compute_hmac_for_string(G_CHECKSUM_SHA256, key.data(), key.size(), text.data(),
                                         static_cast<gssize>(text.size())));
  return std::string(hex.get(), kHashDigits);
}

bool is_cookie_header(std::string_view line) {
  constexpr std::string_view kName = "x-sessioncookie:";
  return line.size() >= kName.size() &&
         g_ascii_strncasecmp(line.data(), kName.data(), kName.size()) == 0;
}

}  // namespace

std::string bind_tunnel_cookie(const std::string& request, const std::string& peer) {
  size_t head_end = request.find("\r\n\r\n");
  if (head_end == std::string::npos)
    head_end = request.find("\n\n");
  if (head_end == std::string::npos)
    return request;
  // The head without its last line's end, line by line (each but the last
  // keeps its '\r').
  std::string_view head(request.data(), head_end);
  std::string out;
  for (size_t pos = 0;;) {
    size_t eol = head.find('\n', pos);
    std::string_view line = head.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    if (is_cookie_header(line)) {
      std::string_view value = line.substr(line.find(':') + 1);
      bool cr = !value.empty() && value.back() == '\r';
      while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
        value.remove_prefix(1);
      while (!value.empty() && (value.back() == '\r' || value.back() == ' ' || value.back() == '\t'))
        value.remove_suffix(1);
      out += "x-sessioncookie: " + hashed(peer, value) + (cr ? "\r" : "");
    } else {
      out += line;
    }
    if (eol == std::string_view::npos)
      break;
    out += '\n';
    pos = eol + 1;
  }
  return out + request.substr(head_end);
}

}  // namespace gms
