// The HTTP layer's log lines, printf style, through the embedding API's
// server_log (the layer sees nothing of the server's internals).
#pragma once

#include <glib.h>

namespace gms::http {

// `level`: as server_log takes it.
void log_line(const char* level, const char* fmt, ...) G_GNUC_PRINTF(2, 3);

}  // namespace gms::http

#define HTTP_LOG_NOTICE(...) ::gms::http::log_line("NOTICE", __VA_ARGS__)
#define HTTP_LOG_INFO(...) ::gms::http::log_line("INFO", __VA_ARGS__)
#define HTTP_LOG_DEBUG(...) ::gms::http::log_line("DEBUG", __VA_ARGS__)
