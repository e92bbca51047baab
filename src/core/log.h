// User-facing log lines on stderr ("2026-11-26 22:31:07 WARN path /x: …"),
// or one JSON object per line with log-format=json. Errors, warnings and
// notices (session starts and ends) always print; info with -v, debug with
// -V. Safe from any thread. Internals use GStreamer debug categories
// instead (GST_DEBUG=gms*:5).
#pragma once

#include <gst/gst.h>

#include <string>
#include <utility>
#include <vector>

namespace gms::log {

enum class Level { kError, kWarn, kNotice, kInfo, kDebug };
enum class Format { kText, kJson };

void set_verbosity(int verbosity);
int verbosity();
void set_format(Format format);
Format format();
void write(Level level, const char* fmt, ...) G_GNUC_PRINTF(2, 3);

// A line with named values: in text "message key=value …", in JSON each
// value a member of its own (numbers stay numbers).
struct Field {
  std::string key;
  std::string text;    // used when !is_number
  gint64 number = 0;
  bool is_number = false;
  bool is_null = false;
};
inline Field text_field(std::string key, std::string value) {
  return {std::move(key), std::move(value), 0, false, false};
}
inline Field number_field(std::string key, gint64 value) { return {std::move(key), {}, value, true, false}; }
inline Field null_field(std::string key) { return {std::move(key), {}, 0, false, true}; }
void write_fields(Level level, const std::string& message, const std::vector<Field>& fields);

// The line as it would be printed, without the newline (for tests).
std::string format_line(Level level, const std::string& stamp, const std::string& message,
                        const std::vector<Field>& fields, Format format);

#define GMS_LOG_ERROR(...) ::gms::log::write(::gms::log::Level::kError, __VA_ARGS__)
#define GMS_LOG_WARN(...) ::gms::log::write(::gms::log::Level::kWarn, __VA_ARGS__)
#define GMS_LOG_NOTICE(...) ::gms::log::write(::gms::log::Level::kNotice, __VA_ARGS__)
#define GMS_LOG_INFO(...) ::gms::log::write(::gms::log::Level::kInfo, __VA_ARGS__)
#define GMS_LOG_DEBUG(...) ::gms::log::write(::gms::log::Level::kDebug, __VA_ARGS__)

}  // namespace gms::log
