// Paths changed over the API: errors as the configuration reader gives
// them, the overlay a reload lays on the file, and the file written back
// with its comments. Also the log line formats.
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include "core/log.h"
#include "core/runtime_paths.h"
#include "gms/ref.h"
#include "http_client.h"
#include "process.h"

namespace gms {
namespace {

const char kLine[] = "videotestsrc ! jpegenc ! rtpjpegpay name=pay0";

struct Applied {
  std::optional<Config> config;
  RuntimePaths::Apply fn() {
    return [this](const Config& c) { config = c; };
  }
};

TEST(RuntimePaths, AddChecksLikeTheReader) {
  RuntimePaths rt;
  Config cur = Config::from_data(std::string("[path /cam]\nlaunch=") + kLine + "\n", "site.conf");
  Applied a;
  auto r = rt.add(cur, std::string(R"({"name": "/new", "launch": ")") + kLine + R"(", "shared": false})", a.fn());
  EXPECT_EQ(r.status, 201u) << r.reason;
  ASSERT_TRUE(a.config);
  const PathConfig* p = a.config->find_path("/new");
  ASSERT_TRUE(p);
  EXPECT_FALSE(p->shared);
  EXPECT_EQ(p->launch, kLine);
  EXPECT_TRUE(a.config->find_path("/cam"));

  Applied none;
  r = rt.add(cur, R"({"name": "/cam", "publish": true})", none.fn());
  EXPECT_EQ(r.status, 409u);
  r = rt.add(cur, R"({"name": "/x", "publish": true, "overide": true})", none.fn());
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.key, "overide");
  EXPECT_NE(r.reason.find("did you mean 'override'"), std::string::npos) << r.reason;
  r = rt.add(cur, R"({"name": "/x", "publish": true, "bad key": 1})", none.fn());
  EXPECT_EQ(r.key, "bad key");
  r = rt.add(cur, R"({"name": "/x", "proxy": "rtsp://h/a", "timeout": 0})", none.fn());
  EXPECT_EQ(r.key, "timeout");
  r = rt.add(cur, R"({"name": "/x", "launch": "videotestsrc ! fakesink"})", none.fn());
  EXPECT_EQ(r.key, "launch");
  r = rt.add(cur, R"({"name": "/x]\n[server", "publish": true})", none.fn());
  EXPECT_EQ(r.key, "name");
  r = rt.add(cur, "nonsense", none.fn());
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.reason.find("not JSON"), std::string::npos);
  EXPECT_FALSE(none.config) << "nothing applied on an error";
}

TEST(RuntimePaths, ReloadKeepsTheApiChanges) {
  RuntimePaths rt;
  Config cur = Config::from_data(std::string("[path /cam]\nlaunch=") + kLine + "\n", "site.conf");
  Applied a;
  ASSERT_EQ(rt.add(cur, R"({"name": "/live/*", "publish": true})", a.fn()).status, 201u);
  cur = *a.config;
  ASSERT_EQ(rt.patch(cur, "/live/*", R"({"override": true})", a.fn()).status, 200u);
  cur = *a.config;
  EXPECT_TRUE(cur.find_path("/live/*")->override_publisher);
  ASSERT_EQ(rt.patch(cur, "/live/*", R"({"override": null, "keep-viewers": true})", a.fn()).status, 200u);
  cur = *a.config;
  EXPECT_FALSE(cur.find_path("/live/*")->override_publisher);
  EXPECT_TRUE(cur.find_path("/live/*")->keep_viewers);
  ASSERT_EQ(rt.remove(cur, "/cam", a.fn()).status, 200u);
  EXPECT_FALSE(a.config->find_path("/cam"));
  EXPECT_EQ(rt.remove(*a.config, "/cam", a.fn()).status, 404u);

  // The file read again: its /cam stays removed, the API's path comes back,
  // and a new path of the file is there.
  Config file = Config::from_data(std::string("[path /cam]\nlaunch=") + kLine +
                                      "\n[path /other]\nlaunch=" + kLine + "\n",
                                  "site.conf");
  rt.merge_into(file);
  EXPECT_FALSE(file.find_path("/cam"));
  EXPECT_TRUE(file.find_path("/other"));
  ASSERT_TRUE(file.find_path("/live/*"));
  EXPECT_TRUE(file.find_path("/live/*")->keep_viewers);
}

TEST(RuntimePaths, WritesTheFileWithItsComments) {
  std::string path = test::write_temp_file(
      "site.conf", std::string("# top\n[server]\napi-writes-config=true\n# cam\n[path /cam]\n"
                               "launch=") + kLine + "\nlatency=100\n");
  Config cur = Config::from_file(path);
  RuntimePaths rt;
  Applied a;
  ASSERT_EQ(rt.patch(cur, "/cam", R"({"latency": 300, "protocols": "tcp"})", a.fn()).status, 200u);
  ASSERT_EQ(rt.add(*a.config, R"({"name": "/p", "publish": true})", a.fn()).status, 201u);
  Config again = Config::from_file(path);
  ASSERT_TRUE(again.find_path("/cam"));
  EXPECT_EQ(again.find_path("/cam")->latency_ms, 300u);
  EXPECT_EQ(again.find_path("/cam")->protocols, unsigned(kProtoTcp));
  EXPECT_TRUE(again.find_path("/p"));
  GCharPtr text;
  gchar* raw = nullptr;
  ASSERT_TRUE(g_file_get_contents(path.c_str(), &raw, nullptr, nullptr));
  text.reset(raw);
  EXPECT_NE(std::string(raw).find("# top"), std::string::npos) << raw;
  EXPECT_NE(std::string(raw).find("# cam"), std::string::npos) << raw;
  // Written, so the overlay holds nothing: a reload reads the file as is.
  Config edited = Config::from_data("[path /only]\npublish=true\n", path);
  rt.merge_into(edited);
  EXPECT_EQ(edited.paths.size(), 1u);
}

TEST(LogLines, TextAndJson) {
  std::vector<log::Field> f = {log::text_field("path", "/a \"b\""), log::number_field("bytes", 42),
                               log::null_field("user")};
  EXPECT_EQ(log::format_line(log::Level::kNotice, "2026-01-01 00:00:00", "session ended", f,
                             log::Format::kText),
            "2026-01-01 00:00:00 NOTICE session ended path=/a \"b\" bytes=42 user=-");
  std::string json = log::format_line(log::Level::kWarn, "T", "line\nbreak", f, log::Format::kJson);
  EXPECT_EQ(json.find('\n'), std::string::npos) << json;
  auto doc = test::parse_json(json);
  ASSERT_TRUE(doc) << json;
  JsonObject* o = json_node_get_object(doc.get());
  EXPECT_EQ(test::json_string(o, "level"), "WARN");
  EXPECT_EQ(test::json_string(o, "message"), "line\nbreak");
  EXPECT_EQ(test::json_string(o, "path"), "/a \"b\"");
  EXPECT_EQ(json_object_get_int_member(o, "bytes"), 42);
  EXPECT_TRUE(json_object_get_null_member(o, "user"));
}

}  // namespace
}  // namespace gms
