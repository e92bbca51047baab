// The HTTP API's pure parts: routing of method + path, the JSON documents
// (read back with json-glib), the Prometheus text, and the segment listing
// of a recording directory.
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>

#include "http/api_model.h"
#include "http/dashboard.h"
#include "http/http_api.h"
#include "http/direct_host.h"
#include "http/same_origin.h"
#include "http_client.h"
#include "prom_text.h"
#include "record/segment_listing.h"
#include "segment_policy.h"

namespace gms::http {
namespace {

using test::json_find;
using test::json_string;
using test::parse_json;

TEST(HttpOrigin, OnlyTheApisOwnOriginOrNone) {
  EXPECT_FALSE(cross_origin(nullptr, "127.0.0.1:8080", false));
  EXPECT_FALSE(cross_origin("http://127.0.0.1:8080", "127.0.0.1:8080", false));
  EXPECT_FALSE(cross_origin("HTTP://Cam.Example:8080", "cam.example:8080", false));
  EXPECT_FALSE(cross_origin("https://cam.example", "cam.example", true));
  EXPECT_TRUE(cross_origin("http://evil", "127.0.0.1:8080", false));
  EXPECT_TRUE(cross_origin("null", "127.0.0.1:8080", false));
  EXPECT_TRUE(cross_origin("http://127.0.0.1:8080", "127.0.0.1:8080", true));
  EXPECT_TRUE(cross_origin("http://127.0.0.1:8081", "127.0.0.1:8080", false));
  EXPECT_TRUE(cross_origin("http://127.0.0.1:8080.evil", "127.0.0.1:8080", false));
  EXPECT_TRUE(cross_origin("http://127.0.0.1:8080", nullptr, false));
}

TEST(HttpHost, AddressesAndLocalhostOnly) {
  for (const char* ok : {"127.0.0.1:8080", "127.0.0.1", "[::1]:8080", "::1", "10.1.2.3:80",
                         "localhost:8080", "LocalHost", "localhost.", "cam.localhost:8080", ""})
    EXPECT_TRUE(direct_host(ok)) << ok;
  EXPECT_TRUE(direct_host(nullptr));
  for (const char* bad : {"evil.example:8080", "evil.example", "127.0.0.1.nip.io:8080",
                          "localhost.evil.example", "[::1", "[]:80", "cam", "1.2.3.4.5"})
    EXPECT_FALSE(direct_host(bad)) << bad;
}

TEST(HttpRoute, KnownResourcesAndMethods) {
  EXPECT_EQ(route_of("GET", "/api/v1/paths").kind, Route::kPaths);
  EXPECT_EQ(route_of("HEAD", "/api/v1/paths").kind, Route::kPaths);
  EXPECT_EQ(route_of("GET", "/api/v1/recordings").kind, Route::kRecordings);
  EXPECT_EQ(route_of("GET", "/metrics").kind, Route::kMetrics);
  Route start = route_of("POST", "/api/v1/recordings/live/cam1/start");
  EXPECT_EQ(start.kind, Route::kRecordingStart);
  EXPECT_EQ(start.path, "/live/cam1");
  Route stop = route_of("POST", "/api/v1/recordings/cam/stop");
  EXPECT_EQ(stop.kind, Route::kRecordingStop);
  EXPECT_EQ(stop.path, "/cam");
}

TEST(HttpRoute, DashboardFilesAndServerInfo) {
  EXPECT_EQ(route_of("GET", "/").kind, Route::kDashboard);
  EXPECT_EQ(route_of("GET", "/dashboard/dashboard.js").kind, Route::kDashboard);
  EXPECT_EQ(route_of("GET", "/api/v1/server").kind, Route::kServerInfo);
  EXPECT_EQ(route_of("DELETE", "/").kind, Route::kMethodNotAllowed);
  for (const char* path : {"/", "/index.html", "/dashboard/dashboard.js", "/dashboard/dashboard.css"}) {
    auto f = dashboard_file(path);
    ASSERT_TRUE(f) << path;
    EXPECT_GT(g_bytes_get_size(f->bytes), 100u) << path;
    g_bytes_unref(f->bytes);
  }
  EXPECT_STREQ(dashboard_file("/")->content_type, "text/html; charset=utf-8");
  // Only the resource's own files.
  for (const char* path : {"/dashboard/", "/dashboard/../index.html", "/dashboard/x/index.html",
                           "/dashboard/dashboard.gresource.xml", "/favicon.ico"})
    EXPECT_FALSE(dashboard_file(path)) << path;
}

TEST(HttpRoute, WrongMethodIs405WithAllow) {
  Route r = route_of("PUT", "/api/v1/paths");
  EXPECT_EQ(r.kind, Route::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "GET, POST");
  r = route_of("POST", "/api/v1/paths/cam");
  EXPECT_EQ(r.kind, Route::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "GET, PATCH, DELETE");
  r = route_of("POST", "/api/v1/sessions");
  EXPECT_EQ(r.allow, "GET");
  r = route_of("GET", "/api/v1/sessions/abc");
  EXPECT_EQ(r.kind, Route::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "DELETE");
  r = route_of("GET", "/api/v1/recordings/cam/start");
  EXPECT_EQ(r.kind, Route::kMethodNotAllowed);
  EXPECT_EQ(r.allow, "POST");
  EXPECT_EQ(route_of("DELETE", "/metrics").kind, Route::kMethodNotAllowed);
}

TEST(HttpRoute, PathsAndSessionsByName) {
  EXPECT_EQ(route_of("POST", "/api/v1/paths").kind, Route::kPathAdd);
  Route r = route_of("GET", "/api/v1/paths/live/cam1");
  EXPECT_EQ(r.kind, Route::kPathGet);
  EXPECT_EQ(r.path, "/live/cam1");
  EXPECT_EQ(route_of("PATCH", "/api/v1/paths/cam").kind, Route::kPathPatch);
  EXPECT_EQ(route_of("DELETE", "/api/v1/paths/live/*").kind, Route::kPathDelete);
  EXPECT_EQ(route_of("GET", "/api/v1/paths/a b").kind, Route::kBadRequest);
  EXPECT_EQ(route_of("GET", "/api/v1/paths/../x").kind, Route::kBadRequest);
  EXPECT_EQ(route_of("GET", "/api/v1/sessions").kind, Route::kSessions);
  r = route_of("DELETE", "/api/v1/sessions/0123abcd");
  EXPECT_EQ(r.kind, Route::kSessionDelete);
  EXPECT_EQ(r.path, "0123abcd");
  EXPECT_EQ(route_of("DELETE", "/api/v1/sessions/").kind, Route::kNotFound);
}

TEST(HttpJson, SessionsWithNullsWhereUnknown) {
  SessionInfo viewer;
  viewer.id = "s1";
  viewer.path = "/cam";
  viewer.remote = "127.0.0.1:4000";
  viewer.transport = "udp";
  viewer.role = "viewer";
  viewer.started_us = gint64(1764316800) * G_USEC_PER_SEC;
  viewer.figures.bytes_sent = 1000;
  viewer.figures.packets_sent = 10;
  viewer.figures.fraction_lost = 0.25;
  viewer.figures.cumulative_lost = 3;
  SessionInfo pub;
  pub.id = "s2";
  pub.role = "publisher";
  pub.transport = "tcp";
  pub.figures.bytes_received = 5;
  auto doc = parse_json(sessions_json({viewer, pub}));
  ASSERT_TRUE(doc);
  JsonArray* all = json_object_get_array_member(json_node_get_object(doc.get()), "sessions");
  JsonObject* v = json_find(all, "id", "s1");
  ASSERT_TRUE(v);
  EXPECT_TRUE(json_object_get_null_member(v, "user"));
  EXPECT_EQ(json_string(v, "started"), "2025-11-28T08:00:00.000000Z");
  EXPECT_EQ(json_object_get_int_member(v, "bytes_sent"), 1000);
  JsonObject* loss = json_object_get_object_member(v, "loss");
  ASSERT_TRUE(loss);
  EXPECT_DOUBLE_EQ(json_object_get_double_member(loss, "fraction"), 0.25);
  EXPECT_EQ(json_object_get_int_member(loss, "cumulative"), 3);
  JsonObject* p = json_find(all, "id", "s2");
  ASSERT_TRUE(p);
  EXPECT_EQ(json_object_get_int_member(p, "bytes_received"), 5);
  EXPECT_TRUE(json_object_get_null_member(p, "packets_received"));
  EXPECT_TRUE(json_object_get_null_member(p, "loss"));
  EXPECT_FALSE(json_object_has_member(p, "bytes_sent"));

  auto err = parse_json(key_error_json("proxy", "not an rtsp:// URL"));
  ASSERT_TRUE(err);
  JsonObject* e = json_object_get_object_member(json_node_get_object(err.get()), "error");
  EXPECT_EQ(json_string(e, "key"), "proxy");
  EXPECT_EQ(json_string(e, "reason"), "not an rtsp:// URL");
}

TEST(HttpRoute, UnknownIs404AndBadNamesAre400) {
  EXPECT_EQ(route_of("GET", "/index.htm").kind, Route::kNotFound);
  EXPECT_EQ(route_of("GET", "/api/v1/nothing").kind, Route::kNotFound);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/cam").kind, Route::kNotFound);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings//start").kind, Route::kNotFound);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/cam/pause").kind, Route::kNotFound);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/a b/start").kind, Route::kBadRequest);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/live/*/start").kind, Route::kBadRequest);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/../x/start").kind, Route::kBadRequest);
  EXPECT_EQ(route_of("POST", "/api/v1/recordings/\xff/start").kind, Route::kBadRequest);
}

PathEntry entry(std::string name, std::string kind, std::optional<bool> live,
                std::optional<unsigned> viewers, std::optional<std::string> recording,
                std::vector<PathEntry> publishers = {}) {
  PathEntry e;
  e.name = std::move(name);
  e.kind = std::move(kind);
  e.live = live;
  e.viewers = viewers;
  e.recording = std::move(recording);
  e.publishers = std::move(publishers);
  return e;
}

TEST(HttpJson, PathsLeaveOutWhatIsNotKnown) {
  PathEntry cam = entry("/cam", "launch", true, 2u, "recording");
  PathEntry vod = entry("/vod", "files", std::nullopt, std::nullopt, std::nullopt);
  PathEntry live = entry("/live/*", "publish", true, std::nullopt, std::nullopt,
                         {entry("/live/a\"b", "publish", true, 0u, "error")});
  auto doc = parse_json(paths_json({cam, vod, live}));
  ASSERT_TRUE(doc);
  JsonArray* paths = json_object_get_array_member(json_node_get_object(doc.get()), "paths");
  ASSERT_EQ(json_array_get_length(paths), 3u);
  JsonObject* c = json_find(paths, "name", "/cam");
  ASSERT_TRUE(c);
  EXPECT_EQ(json_string(c, "kind"), "launch");
  EXPECT_TRUE(json_object_get_boolean_member(c, "live"));
  EXPECT_EQ(json_object_get_int_member(c, "viewers"), 2);
  EXPECT_EQ(json_string(c, "recording"), "recording");
  JsonObject* v = json_find(paths, "name", "/vod");
  ASSERT_TRUE(v);
  EXPECT_FALSE(json_object_has_member(v, "live"));
  EXPECT_FALSE(json_object_has_member(v, "viewers"));
  EXPECT_FALSE(json_object_has_member(v, "recording"));
  JsonObject* l = json_find(paths, "name", "/live/*");
  ASSERT_TRUE(l);
  // A quote in a value is escaped by the generator: the name reads back.
  EXPECT_TRUE(json_find(json_object_get_array_member(l, "publishers"), "name", "/live/a\"b"));
}

TEST(HttpJson, RecordingsWithErrorAndSegments) {
  RecordingEntry r;
  r.path = "/cam";
  r.directory = "/srv/rec/cam";
  r.status.state = RecordingStatus::State::kRecording;
  r.status.last_error = "No space left on the resource.";
  r.status.last_error_us = 1700000000123456;
  r.status.errors = 3;
  r.status.current_segment = "/srv/rec/cam/2023-11-14_22-13-21-000000.mp4";
  r.segments.push_back({"2023-11-14_22-13-20-123456.mp4", "/srv/rec/cam/x", 1700000000123456, 0, 42});
  auto doc = parse_json(recordings_json({r}));
  ASSERT_TRUE(doc);
  JsonArray* all = json_object_get_array_member(json_node_get_object(doc.get()), "recordings");
  JsonObject* o = json_find(all, "path", "/cam");
  ASSERT_TRUE(o);
  EXPECT_EQ(json_string(o, "directory"), "/srv/rec/cam");
  EXPECT_EQ(json_string(o, "state"), "recording");
  EXPECT_EQ(json_string(o, "last_error"), "No space left on the resource.");
  EXPECT_EQ(json_string(o, "last_error_time"), "2023-11-14T22:13:20.123456Z");
  EXPECT_EQ(json_object_get_int_member(o, "errors"), 3);
  EXPECT_EQ(json_string(o, "current_segment"), r.status.current_segment);
  JsonArray* segs = json_object_get_array_member(o, "segments");
  ASSERT_EQ(json_array_get_length(segs), 1u);
  JsonObject* s = json_array_get_object_element(segs, 0);
  EXPECT_EQ(json_string(s, "file"), "2023-11-14_22-13-20-123456.mp4");
  EXPECT_EQ(json_object_get_int_member(s, "bytes"), 42);
  EXPECT_EQ(json_string(s, "start"), "2023-11-14T22:13:20.123456Z");
  // No error yet: no error members at all.
  RecordingEntry fresh;
  fresh.path = "/b";
  auto doc2 = parse_json(recordings_json({fresh}));
  JsonObject* b = json_find(json_object_get_array_member(json_node_get_object(doc2.get()), "recordings"),
                            "path", "/b");
  ASSERT_TRUE(b);
  EXPECT_EQ(json_string(b, "state"), "stopped");
  EXPECT_FALSE(json_object_has_member(b, "last_error"));
  EXPECT_FALSE(json_object_has_member(b, "last_error_time"));
}

TEST(HttpJson, PathFiguresForExactPathsOnly) {
  PathEntry cam = entry("/cam", "launch", true, 1u, std::nullopt);
  cam.state = "ready";
  cam.measured = true;
  cam.figures.readers_udp = 2;
  cam.figures.readers_multicast = 3;
  cam.figures.readers_tcp = 1;
  cam.figures.bytes_in = 1000;
  cam.figures.bytes_out = 2000;
  cam.figures.bitrate_bps = 512000.5;
  cam.figures.frames = 30;
  cam.figures.key_frames = 1;
  cam.figures.gaps = 4;
  cam.figures.reconnects = 2;
  cam.figures.last_activity_us = 1733515200000000;
  PathEntry pub = entry("/pub", "publish", false, 0u, std::nullopt);
  pub.measured = true;
  pub.publisher_count = 0;
  PathEntry pattern = entry("/live/*", "publish", false, std::nullopt, std::nullopt);
  auto doc = parse_json(paths_json({cam, pub, pattern}));
  ASSERT_TRUE(doc);
  JsonArray* paths = json_object_get_array_member(json_node_get_object(doc.get()), "paths");
  JsonObject* c = json_find(paths, "name", "/cam");
  ASSERT_TRUE(c);
  EXPECT_EQ(json_string(c, "state"), "ready");
  JsonObject* r = json_object_get_object_member(c, "readers");
  ASSERT_TRUE(r);
  EXPECT_EQ(json_object_get_int_member(r, "udp"), 2);
  EXPECT_EQ(json_object_get_int_member(r, "udp-multicast"), 3);
  EXPECT_EQ(json_object_get_int_member(r, "tcp"), 1);
  EXPECT_EQ(json_object_get_int_member(c, "bytes_in"), 1000);
  EXPECT_EQ(json_object_get_int_member(c, "bytes_out"), 2000);
  EXPECT_DOUBLE_EQ(json_object_get_double_member(c, "bitrate_bps"), 512000.5);
  EXPECT_EQ(json_object_get_int_member(c, "frames"), 30);
  EXPECT_EQ(json_object_get_int_member(c, "key_frames"), 1);
  EXPECT_EQ(json_object_get_int_member(c, "gaps"), 4);
  EXPECT_EQ(json_object_get_int_member(c, "reconnects"), 2);
  EXPECT_EQ(json_string(c, "last_activity"), "2024-12-06T20:00:00.000000Z");
  EXPECT_FALSE(json_object_has_member(c, "publishers"));  // not a publish path
  JsonObject* p = json_find(paths, "name", "/pub");
  ASSERT_TRUE(p);
  EXPECT_EQ(json_object_get_int_member(p, "publishers"), 0);
  EXPECT_FALSE(json_object_has_member(p, "last_activity"));  // nothing came yet
  JsonObject* l = json_find(paths, "name", "/live/*");
  ASSERT_TRUE(l);
  EXPECT_FALSE(json_object_has_member(l, "readers"));
  EXPECT_FALSE(json_object_has_member(l, "bytes_in"));
}

TEST(HttpJson, ErrorBody) {
  auto doc = parse_json(error_json("no path /x\n\"y\""));
  ASSERT_TRUE(doc);
  EXPECT_EQ(json_string(json_node_get_object(doc.get()), "error"), "no path /x\n\"y\"");
}

TEST(HttpMetrics, PrometheusText) {
  Counters c;
  c.paths = 3;
  c.sessions = 5;
  c.publishers = 1;
  RecordingEntry a, b;
  a.path = "/cam";
  a.status.state = RecordingStatus::State::kRecording;
  b.path = "/odd\"path\\";
  b.status.state = RecordingStatus::State::kError;
  b.status.errors = 7;
  std::string text = metrics_text(c, {a, b});
  EXPECT_NE(text.find("\ngms_paths 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ngms_sessions 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\ngms_publishers 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE gms_recording gauge\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gms_recording{path=\"/cam\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gms_recording{path=\"/odd\\\"path\\\\\"} 0\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# TYPE gms_recording_errors_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("gms_recording_errors_total{path=\"/odd\\\"path\\\\\"} 7\n"), std::string::npos)
      << text;
}

// The whole text through a strict text-format reader: every family has
// HELP and TYPE, every sample line is valid, label values with a quote, a
// backslash and a newline come back as they were.
TEST(HttpMetrics, EveryFamilyAndSampleIsValidTextFormat) {
  Counters c;
  c.paths = 2;
  c.connections = 4;
  c.auth_failures = 0;
  c.refused = {{"max-connections", 3}, {"request-size", 1}};
  PathEntry cam = entry("/cam", "launch", true, 1u, std::nullopt);
  cam.state = "ready";
  cam.measured = true;
  cam.figures.readers_tcp = 1;
  cam.figures.bytes_in = 123456789012ull;
  cam.figures.bytes_out = 42;
  cam.figures.bitrate_bps = 1.5e6;
  cam.figures.frames = 300;
  cam.figures.last_activity_us = 1733515200123456;
  PathEntry odd = entry("/a\"b\\c\nd", "publish", false, 0u, std::nullopt);
  odd.publisher_count = 0;
  odd.state = "idle";
  odd.measured = true;
  PathEntry pattern = entry("/live/*", "publish", true, std::nullopt, std::nullopt,
                            {entry("/live/x", "publish", true, 0u, std::nullopt)});
  pattern.publishers[0].publisher_count = 1;
  pattern.publishers[0].measured = true;
  RecordingEntry r;
  r.path = "/cam";
  r.status.segments = 5;
  auto text = metrics_text(c, {r}, {cam, odd, pattern});
  auto parsed = test::parse_prom_text(text);
  EXPECT_TRUE(parsed.errors.empty()) << testing::PrintToString(parsed.errors) << "\n" << text;
  for (const auto& [name, f] : parsed.families) {
    EXPECT_EQ(name.rfind("gms_", 0), 0u) << name;
    EXPECT_FALSE(f.help.empty()) << name;
  }
  EXPECT_EQ(parsed.families.at("gms_path_sent_bytes_total").type, "counter");
  EXPECT_EQ(parsed.families.at("gms_path_readers").type, "gauge");
  EXPECT_EQ(parsed.value("gms_connections"), 4);
  EXPECT_EQ(parsed.value("gms_auth_failures_total"), 0);
  EXPECT_EQ(parsed.value("gms_refused_requests_total", {{"reason", "max-connections"}}), 3);
  EXPECT_EQ(parsed.value("gms_path_readers", {{"path", "/cam"}, {"transport", "tcp"}}), 1);
  EXPECT_EQ(parsed.value("gms_path_readers", {{"path", "/cam"}, {"transport", "udp"}}), 0);
  EXPECT_EQ(parsed.value("gms_path_received_bytes_total", {{"path", "/cam"}}), 123456789012.0);
  EXPECT_EQ(parsed.value("gms_path_bitrate_bits_per_second", {{"path", "/cam"}}), 1.5e6);
  EXPECT_NEAR(parsed.value("gms_path_last_activity_seconds", {{"path", "/cam"}}), 1733515200.123456, 1e-3);
  EXPECT_EQ(parsed.value("gms_path_up", {{"path", "/cam"}}), 1);
  EXPECT_EQ(parsed.value("gms_path_up", {{"path", "/a\"b\\c\nd"}}), 0);  // unescaped again
  // A pattern is measured as its publishers' paths.
  EXPECT_EQ(parsed.value("gms_path_publishers", {{"path", "/live/x"}}), 1);
  EXPECT_TRUE(std::isnan(parsed.value("gms_path_publishers", {{"path", "/live/*"}})));
  EXPECT_EQ(parsed.value("gms_recording_segments_total", {{"path", "/cam"}}), 5);
}

// The reader itself refuses what the format forbids.
TEST(HttpMetrics, StrictReaderRefusesInvalidText) {
  auto bad = [](const std::string& t) { return !test::parse_prom_text(t).errors.empty(); };
  const std::string ok = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
  EXPECT_FALSE(bad(ok)) << testing::PrintToString(test::parse_prom_text(ok).errors);
  EXPECT_TRUE(bad("# TYPE a gauge\na 1\n"));                      // no HELP
  EXPECT_TRUE(bad("# HELP a A.\na 1\n"));                          // no TYPE
  EXPECT_TRUE(bad("b 1\n"));                                       // no family
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na{x=\"\\q\"} 1\n"));  // bad escape
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na{x=\"1\"}1\n"));      // no space
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na{x=\"1\" 1\n"));      // unclosed labels
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na one\n"));            // bad value
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a counter\na 1\n"));            // counter without _total
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na 1\na 2\n"));         // the same series twice
  EXPECT_TRUE(bad(ok + "# HELP b B.\n# TYPE b gauge\nb 1\na_total{x=\"2\"} 1\n"));  // split block
  EXPECT_TRUE(bad("# HELP a A.\n# TYPE a gauge\na 1"));                 // no final newline
}

TEST(SegmentListing, RecorderNamedNonEmptyFilesOldestFirst) {
  g_setenv("TZ", "UTC", TRUE);
  tzset();
  GCharPtr dir(g_dir_make_tmp("gms-seg-XXXXXX", nullptr));
  ASSERT_TRUE(dir);
  std::string d = dir.get();
  auto write = [&](const std::string& name, const std::string& data) {
    ASSERT_TRUE(g_file_set_contents((d + "/" + name).c_str(), data.data(), gssize(data.size()), nullptr));
  };
  write("2024-03-05_07-08-10-000000.mp4", "bbbb");
  write("2024-03-05_07-08-09-012345.mp4", "aa");
  write("2024-03-05_07-08-11-000000.mp4", "");  // opened just before a kill -9
  write("filler", "x");
  write("notes.txt", "x");
  auto segs = record::list_segments(d);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].name, "2024-03-05_07-08-09-012345.mp4");
  EXPECT_EQ(segs[0].path, d + "/2024-03-05_07-08-09-012345.mp4");
  EXPECT_EQ(segs[0].bytes, 2u);
  EXPECT_EQ(segs[0].start_us, SegmentPolicy::start_from_name(segs[0].name));
  EXPECT_EQ(iso8601_utc(segs[0].start_us), "2024-03-05T07:08:09.012345Z");
  EXPECT_EQ(segs[1].bytes, 4u);
  EXPECT_GT(segs[1].mtime_us, 0);
  EXPECT_TRUE(record::list_segments(d + "/missing").empty());
  for (const char* n : {"2024-03-05_07-08-10-000000.mp4", "2024-03-05_07-08-09-012345.mp4",
                        "2024-03-05_07-08-11-000000.mp4", "filler", "notes.txt"})
    g_unlink((d + "/" + n).c_str());
  g_rmdir(d.c_str());
}

}  // namespace
}  // namespace gms::http
