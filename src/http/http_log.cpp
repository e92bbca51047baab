#include "http/http_log.h"

#include <gst-mediaserver/server.h>

#include <cstdarg>

namespace gms::http {

void log_line(const char* level, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  gchar* text = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  server_log(level, text);
  g_free(text);
}

}  // namespace gms::http
