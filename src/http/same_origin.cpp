#include "http/same_origin.h"

#include <glib.h>

#include <string>

namespace gms::http {

bool cross_origin(const char* origin, const char* host, bool https) {
  if (!origin)
    return false;
  if (!host || !*host)
    return true;
  const std::string own = std::string(https ? "https://" : "http://") + host;
  // Scheme and host are case-insensitive; "null" (a sandboxed page, a
  // file) is nobody's.
  return g_ascii_strcasecmp(origin, own.c_str()) != 0;
}

}  // namespace gms::http
