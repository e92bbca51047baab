// JSON for the HTTP API, built with json-glib: every string value goes
// through its generator, which escapes it (path names and error texts come
// from configuration files, clients and the kernel).
#include <json-glib/json-glib.h>

#include <type_traits>

#include "gms/ref.h"
#include "http/api_model.h"

namespace gms::http {
namespace {

using JsonNodePtr = UniquePtr<JsonNode, json_node_unref>;

std::string to_text(JsonBuilder* b) {
  JsonNodePtr root(json_builder_get_root(b));
  auto gen = Ref<JsonGenerator>::adopt(json_generator_new());
  json_generator_set_root(gen.get(), root.get());
  json_generator_set_pretty(gen.get(), TRUE);
  GCharPtr text(json_generator_to_data(gen.get(), nullptr));
  return std::string(text.get()) + "\n";
}

void member(JsonBuilder* b, const char* name, const std::string& value) {
  json_builder_set_member_name(b, name);
  json_builder_add_string_value(b, value.c_str());
}

void member(JsonBuilder* b, const char* name, gint64 value) {
  json_builder_set_member_name(b, name);
  json_builder_add_int_value(b, value);
}

void member(JsonBuilder* b, const char* name, bool value) {
  json_builder_set_member_name(b, name);
  json_builder_add_boolean_value(b, value);
}

void member(JsonBuilder* b, const char* name, double value) {
  json_builder_set_member_name(b, name);
  json_builder_add_double_value(b, value);
}

// The figures every path has (a pattern's are its publishers' own).
void add_figures(JsonBuilder* b, const PathEntry& p) {
  const PathFigures& f = p.figures;
  if (p.state)
    member(b, "state", *p.state);
  if (!p.measured)
    return;
  // One path's detail lists its readers' sessions under "readers"
  // instead (each with its transport).
  if (!p.readers) {
    json_builder_set_member_name(b, "readers");
    json_builder_begin_object(b);
    member(b, "udp", gint64(f.readers_udp));
    member(b, "udp-multicast", gint64(f.readers_multicast));
    member(b, "tcp", gint64(f.readers_tcp));
    json_builder_end_object(b);
  }
  member(b, "bytes_in", gint64(f.bytes_in));
  member(b, "bytes_out", gint64(f.bytes_out));
  member(b, "bitrate_bps", f.bitrate_bps);
  member(b, "frames", gint64(f.frames));
  member(b, "key_frames", gint64(f.key_frames));
  member(b, "gaps", gint64(f.gaps));
  member(b, "lost_packets", gint64(f.lost));
  member(b, "reconnects", gint64(f.reconnects));
  if (f.last_activity_us > 0)
    member(b, "last_activity", iso8601_utc(f.last_activity_us));
}

void member_null(JsonBuilder* b, const char* name) {
  json_builder_set_member_name(b, name);
  json_builder_add_null_value(b);
}

template <typename T>
void optional_member(JsonBuilder* b, const char* name, const std::optional<T>& v) {
  if (!v) {
    member_null(b, name);
  } else if constexpr (std::is_floating_point_v<T>) {
    json_builder_set_member_name(b, name);
    json_builder_add_double_value(b, *v);
  } else {
    member(b, name, gint64(*v));
  }
}

void add_session(JsonBuilder* b, const SessionInfo& s) {
  json_builder_begin_object(b);
  member(b, "id", s.id);
  member(b, "path", s.path);
  member(b, "remote", s.remote);
  if (s.user)
    member(b, "user", *s.user);
  else
    member_null(b, "user");
  member(b, "transport", s.transport);
  member(b, "role", s.role);
  member(b, "started", iso8601_utc(s.started_us));
  const SessionFigures& f = s.figures;
  if (s.role == "publisher") {
    optional_member(b, "bytes_received", f.bytes_received);
    optional_member(b, "packets_received", f.packets_received);
    member_null(b, "loss");
  } else {
    optional_member(b, "bytes_sent", f.bytes_sent);
    optional_member(b, "packets_sent", f.packets_sent);
    if (f.fraction_lost || f.cumulative_lost) {
      json_builder_set_member_name(b, "loss");
      json_builder_begin_object(b);
      optional_member(b, "fraction", f.fraction_lost);
      optional_member(b, "cumulative", f.cumulative_lost);
      json_builder_end_object(b);
    } else {
      member_null(b, "loss");
    }
  }
  json_builder_end_object(b);
}

void add_path(JsonBuilder* b, const PathEntry& p) {
  json_builder_begin_object(b);
  member(b, "name", p.name);
  member(b, "kind", p.kind);
  if (p.live)
    member(b, "live", *p.live);
  if (p.viewers)
    member(b, "viewers", gint64(*p.viewers));
  if (p.recording)
    member(b, "recording", *p.recording);
  add_figures(b, p);
  if (p.publisher_count)
    member(b, "publishers", gint64(*p.publisher_count));
  if (p.kind == "publish" && !p.publishers.empty()) {
    json_builder_set_member_name(b, "publishers");
    json_builder_begin_array(b);
    for (const auto& sub : p.publishers)
      add_path(b, sub);
    json_builder_end_array(b);
  }
  if (p.kind == "proxy" && !p.publishers.empty()) {
    json_builder_set_member_name(b, "paths");
    json_builder_begin_array(b);
    for (const auto& sub : p.publishers)
      add_path(b, sub);
    json_builder_end_array(b);
  }
  if (p.readers) {
    json_builder_set_member_name(b, "readers");
    json_builder_begin_array(b);
    for (const auto& r : *p.readers)
      add_session(b, r);
    json_builder_end_array(b);
  }
  json_builder_end_object(b);
}

void add_status(JsonBuilder* b, const RecordingStatus& s) {
  member(b, "state", std::string(state_name(s.state)));
  member(b, "errors", gint64(s.errors));
  member(b, "segments_written", gint64(s.segments));
  member(b, "bytes_written", gint64(s.bytes_written));
  member(b, "dropped_buffers", gint64(s.dropped_buffers));
  member(b, "oversized_frames", gint64(s.oversized_frames));
  member(b, "refused_packets", gint64(s.refused_packets));
  if (!s.last_error.empty()) {
    member(b, "last_error", s.last_error);
    member(b, "last_error_time", iso8601_utc(s.last_error_us));
  }
  if (!s.current_segment.empty())
    member(b, "current_segment", s.current_segment);
}

Ref<JsonBuilder> new_builder() { return Ref<JsonBuilder>::adopt(json_builder_new()); }

}  // namespace

std::string iso8601_utc(gint64 wall_us) {
  auto t = UniquePtr<GDateTime, g_date_time_unref>(
      g_date_time_new_from_unix_utc(wall_us / G_USEC_PER_SEC));
  if (!t)
    return {};
  auto full = UniquePtr<GDateTime, g_date_time_unref>(g_date_time_add(t.get(), wall_us % G_USEC_PER_SEC));
  GCharPtr text(full ? g_date_time_format(full.get(), "%Y-%m-%dT%H:%M:%S.%fZ") : nullptr);
  return text ? text.get() : "";
}

std::string paths_json(const std::vector<PathEntry>& paths) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "paths");
  json_builder_begin_array(b.get());
  for (const auto& p : paths)
    add_path(b.get(), p);
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string path_json(const PathEntry& path) {
  auto b = new_builder();
  add_path(b.get(), path);
  return to_text(b.get());
}

std::string sessions_json(const SessionList& sessions) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "sessions");
  json_builder_begin_array(b.get());
  for (const auto& s : sessions)
    add_session(b.get(), s);
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string key_error_json(const std::string& key, const std::string& reason) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "error");
  json_builder_begin_object(b.get());
  if (key.empty())
    member_null(b.get(), "key");
  else
    member(b.get(), "key", key);
  member(b.get(), "reason", reason);
  json_builder_end_object(b.get());
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string recordings_json(const std::vector<RecordingEntry>& recordings) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "recordings");
  json_builder_begin_array(b.get());
  for (const auto& r : recordings) {
    json_builder_begin_object(b.get());
    member(b.get(), "path", r.path);
    member(b.get(), "directory", r.directory);
    add_status(b.get(), r.status);
    json_builder_set_member_name(b.get(), "segments");
    json_builder_begin_array(b.get());
    for (const auto& s : r.segments) {
      json_builder_begin_object(b.get());
      member(b.get(), "file", s.name);
      member(b.get(), "bytes", gint64(s.bytes));
      member(b.get(), "start", iso8601_utc(s.start_us));
      json_builder_end_object(b.get());
    }
    json_builder_end_array(b.get());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string recording_state_json(const std::string& path, const RecordingStatus& status) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  member(b.get(), "path", path);
  add_status(b.get(), status);
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string error_json(const std::string& message) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  member(b.get(), "error", message);
  json_builder_end_object(b.get());
  return to_text(b.get());
}

std::string server_json(uint16_t rtsp_port) {
  auto b = new_builder();
  json_builder_begin_object(b.get());
  member(b.get(), "rtsp_port", gint64(rtsp_port));
  member(b.get(), "version", std::string(GMS_VERSION));
  json_builder_end_object(b.get());
  return to_text(b.get());
}

}  // namespace gms::http
