// User-facing log lines on stderr ("2026-11-26 22:31:07 WARN path /x: …").
// Errors and warnings always print; info with -v, debug with -V. Safe from
// any thread. Internals use GStreamer debug categories instead (GST_DEBUG=gms*:5).
#pragma once

#include <gst/gst.h>

namespace gms::log {

enum class Level { kError, kWarn, kInfo, kDebug };

void set_verbosity(int verbosity);
int verbosity();
void write(Level level, const char* fmt, ...) G_GNUC_PRINTF(2, 3);

#define GMS_LOG_ERROR(...) ::gms::log::write(::gms::log::Level::kError, __VA_ARGS__)
#define GMS_LOG_WARN(...) ::gms::log::write(::gms::log::Level::kWarn, __VA_ARGS__)
#define GMS_LOG_INFO(...) ::gms::log::write(::gms::log::Level::kInfo, __VA_ARGS__)
#define GMS_LOG_DEBUG(...) ::gms::log::write(::gms::log::Level::kDebug, __VA_ARGS__)

}  // namespace gms::log
