#include "core/log.h"

#include <json-glib/json-glib.h>

#include <atomic>
#include <cstdio>

#include "auth/redact.h"
#include "gms/ref.h"

namespace gms::log {
namespace {
std::atomic<int> g_verbosity{0};
std::atomic<Format> g_format{Format::kText};

const char* name(Level l) {
  switch (l) {
    case Level::kError:
      return "ERROR";
    case Level::kWarn:
      return "WARN";
    case Level::kNotice:
      return "NOTICE";
    case Level::kInfo:
      return "INFO";
    case Level::kDebug:
      return "DEBUG";
  }
  return "?";
}

bool shown(Level level) {
  return !((level == Level::kInfo && g_verbosity < 1) || (level == Level::kDebug && g_verbosity < 2));
}

std::string json_line(Level level, const std::string& stamp, const std::string& message,
                      const std::vector<Field>& fields) {
  auto b = Ref<JsonBuilder>::adopt(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "time");
  json_builder_add_string_value(b.get(), stamp.c_str());
  json_builder_set_member_name(b.get(), "level");
  json_builder_add_string_value(b.get(), name(level));
  json_builder_set_member_name(b.get(), "message");
  json_builder_add_string_value(b.get(), message.c_str());
  for (const auto& f : fields) {
    json_builder_set_member_name(b.get(), f.key.c_str());
    if (f.is_null)
      json_builder_add_null_value(b.get());
    else if (f.is_number)
      json_builder_add_int_value(b.get(), f.number);
    else
      json_builder_add_string_value(b.get(), f.text.c_str());
  }
  json_builder_end_object(b.get());
  auto root = UniquePtr<JsonNode, json_node_unref>(json_builder_get_root(b.get()));
  // Not pretty: one object per line, newlines in values escaped.
  GCharPtr text(json_to_string(root.get(), FALSE));
  return text.get();
}

std::string now_stamp(Format f) {
  auto now = UniquePtr<GDateTime, g_date_time_unref>(
      f == Format::kJson ? g_date_time_new_now_utc() : g_date_time_new_now_local());
  GCharPtr stamp(g_date_time_format(now.get(), f == Format::kJson ? "%Y-%m-%dT%H:%M:%S.%fZ"
                                                                  : "%Y-%m-%d %H:%M:%S"));
  return stamp.get();
}

void emit(Level level, const std::string& message, const std::vector<Field>& fields) {
  const Format f = g_format;
  // No secret reaches the log, whatever a caller put in the line.
  std::string line = auth::redact(format_line(level, now_stamp(f), message, fields, f));
  // One fprintf per line keeps lines from threads whole.
  fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace

void set_verbosity(int v) { g_verbosity = v; }
int verbosity() { return g_verbosity; }
void set_format(Format f) { g_format = f; }
Format format() { return g_format; }

std::string format_line(Level level, const std::string& stamp, const std::string& message,
                        const std::vector<Field>& fields, Format format) {
  if (format == Format::kJson)
    return json_line(level, stamp, message, fields);
  std::string line = stamp + " " + name(level) + " " + message;
  for (const auto& f : fields)
    line += " " + f.key + "=" +
            (f.is_null ? std::string("-") : f.is_number ? std::to_string(f.number) : f.text);
  return line;
}

void write(Level level, const char* fmt, ...) {
  if (!shown(level))
    return;
  va_list ap;
  va_start(ap, fmt);
  GCharPtr msg(g_strdup_vprintf(fmt, ap));
  va_end(ap);
  emit(level, msg.get(), {});
}

void write_fields(Level level, const std::string& message, const std::vector<Field>& fields) {
  if (shown(level))
    emit(level, message, fields);
}

}  // namespace gms::log

#include <gst-mediaserver/server.h>

namespace gms {

void set_log_format(const std::string& format) {
  log::set_format(format == "json" ? log::Format::kJson : log::Format::kText);
}

void program_log(const char* level, const std::string& text) {
  if (log::format() == log::Format::kText) {
    fprintf(stderr, "gst-mediaserver: %s\n", auth::redact(text).c_str());
    return;
  }
  const std::string l = level;
  log::write_fields(l == "ERROR" ? log::Level::kError : l == "WARN" ? log::Level::kWarn
                                                                     : log::Level::kNotice,
                    text, {});
}

void server_log(const char* level, const std::string& text) {
  const std::string l = level ? level : "";
  const log::Level lv = l == "ERROR"    ? log::Level::kError
                        : l == "WARN"   ? log::Level::kWarn
                        : l == "NOTICE" ? log::Level::kNotice
                        : l == "INFO"   ? log::Level::kInfo
                                        : log::Level::kDebug;
  log::write_fields(lv, text, {});
}

}  // namespace gms
