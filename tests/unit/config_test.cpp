// Configuration: parsing, every refusal with its position, CLI overrides.
#include <gst-mediaserver/config.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include "gms/ref.h"

#include "config/value_parsers.h"

namespace gms {
namespace {

ConfigError error_of(const std::string& text) {
  try {
    Config::from_data(text, "site.conf");
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return ConfigError({});
}

TEST(Config, ReadsServerAndPaths) {
  Config c = Config::from_data(R"(# comment
[server]
port=9554
address=127.0.0.1
session-timeout=30
max-request-size=8192
threads=6

[path /test]
launch=( videotestsrc ! x264enc ! rtph264pay name=pay0 pt=96 )
shared=false
latency=50
protocols=tcp, udp
multicast-address-range=239.1.1.1-239.1.1.9
multicast-port-range=6000-6010
multicast-ttl=4
)",
                               "site.conf");
  EXPECT_EQ(c.server.port, 9554);
  EXPECT_EQ(c.server.address, "127.0.0.1");
  EXPECT_EQ(c.server.session_timeout, 30u);
  EXPECT_EQ(c.server.max_request_size, 8192u);
  EXPECT_EQ(c.server.effective_threads(), 6u);
  ASSERT_EQ(c.paths.size(), 1u);
  const PathConfig& p = c.paths[0];
  EXPECT_EQ(p.name, "/test");
  EXPECT_EQ(p.launch, "videotestsrc ! x264enc ! rtph264pay name=pay0 pt=96");
  EXPECT_FALSE(p.shared);
  EXPECT_EQ(p.latency_ms, 50u);
  EXPECT_EQ(p.protocols, unsigned(kProtoTcp | kProtoUdp));
  EXPECT_EQ(p.multicast.min_address, "239.1.1.1");
  EXPECT_EQ(p.multicast.max_port, 6010);
  EXPECT_EQ(p.multicast.ttl, 4);
  EXPECT_EQ(p.line, 9);
}

TEST(Config, DefaultsFitAServer) {
  Config c;
  EXPECT_EQ(c.server.port, 8554);
  EXPECT_GE(c.server.effective_threads(), 4u);
  EXPECT_GE(c.server.backlog, 100u);
  EXPECT_LE(c.server.max_request_size, 1024u * 1024u);
  EXPECT_GT(c.server.max_sessions, 0u);
}

TEST(Config, UnknownKeySuggests) {
  ConfigError e = error_of("[path /a]\nlanch=videotestsrc ! rtpvrawpay name=pay0\n");
  ASSERT_GE(e.issues().size(), 1u);
  EXPECT_EQ(e.issues()[0].line, 2);
  EXPECT_EQ(e.issues()[0].key, "lanch");
  EXPECT_NE(e.issues()[0].reason.find("did you mean 'launch'"), std::string::npos);
  EXPECT_NE(std::string(e.what()).find("site.conf:2: [path /a] lanch:"), std::string::npos);
}

TEST(Config, UnknownServerKeySuggests) {
  ConfigError e = error_of("[server]\nprot=1\n");
  EXPECT_NE(e.issues()[0].reason.find("did you mean 'port'"), std::string::npos);
}

TEST(Config, BadValuesNameLineAndKey) {
  ConfigError e = error_of(
      "[server]\nport=99999\nsession-timeout=abc\n[path /a]\nlaunch=x name=pay0\nshared=maybe\n"
      "protocols=udp,sctp\nmulticast-address-range=10.0.0.1-10.0.0.2\n");
  ASSERT_EQ(e.issues().size(), 5u);
  EXPECT_EQ(e.issues()[0].line, 2);
  EXPECT_EQ(e.issues()[0].key, "port");
  EXPECT_EQ(e.issues()[1].key, "session-timeout");
  EXPECT_EQ(e.issues()[2].key, "shared");
  EXPECT_EQ(e.issues()[3].key, "protocols");
  EXPECT_NE(e.issues()[3].reason.find("sctp"), std::string::npos);
  EXPECT_EQ(e.issues()[4].line, 8);
  EXPECT_NE(e.issues()[4].reason.find("multicast"), std::string::npos);
}

TEST(Config, DuplicatePathAndKey) {
  ConfigError e = error_of(
      "[path /a]\nlaunch=a name=pay0\n\n[path /a]\nlaunch=b name=pay0\n[path /b]\nlaunch=c "
      "name=pay0\nlaunch=d name=pay0\n");
  ASSERT_EQ(e.issues().size(), 2u);
  EXPECT_EQ(e.issues()[0].line, 4);
  EXPECT_NE(e.issues()[0].reason.find("duplicate group (first defined at line 1)"),
            std::string::npos);
  EXPECT_EQ(e.issues()[1].line, 8);
  EXPECT_NE(e.issues()[1].reason.find("set twice"), std::string::npos);
}

TEST(Config, SyntaxErrors) {
  ConfigError e = error_of("[server\nport=1\n[path /a]\njust words\n");
  ASSERT_EQ(e.issues().size(), 3u);
  EXPECT_EQ(e.issues()[0].line, 1);
  EXPECT_NE(e.issues()[0].reason.find("[name]"), std::string::npos);
  EXPECT_EQ(e.issues()[1].line, 4);
  EXPECT_NE(e.issues()[1].reason.find("not a key=value"), std::string::npos);
  EXPECT_EQ(e.issues()[2].line, 3);  // [path /a] has no source
}

TEST(Config, KeyOutsideGroup) {
  ConfigError e = error_of("port=1\n");
  EXPECT_NE(e.issues()[0].reason.find("outside of any [group]"), std::string::npos);
}

TEST(Config, BadGroupsAndPathNames) {
  ConfigError e = error_of(
      "[serverx]\n[path]\n[path relative]\nlaunch=a name=pay0\n[path /a/../b]\nlaunch=a "
      "name=pay0\n[path /sp ace]\n[path /ok]\n");
  ASSERT_EQ(e.issues().size(), 6u);
  EXPECT_NE(e.issues()[0].reason.find("unknown group"), std::string::npos);
  EXPECT_NE(e.issues()[1].reason.find("start with '/'"), std::string::npos);
  EXPECT_NE(e.issues()[2].reason.find("start with '/'"), std::string::npos);
  EXPECT_NE(e.issues()[3].reason.find("'..'"), std::string::npos);
  EXPECT_EQ(e.issues()[4].line, 7);
  EXPECT_EQ(e.issues()[5].group, "path /ok");
  EXPECT_NE(e.issues()[5].reason.find("no source"), std::string::npos);
}

// A directory that exists for the root tests (removed at exit).
std::string temp_root() {
  static std::string dir = [] {
    GCharPtr d(g_dir_make_tmp("gms-root-XXXXXX", nullptr));
    std::string s = d.get();
    g_mkdir(( s + "/sub").c_str(), 0755);
    return s;
  }();
  return dir;
}

TEST(Config, RootPathsAreFilesNotSharedByDefault) {
  std::string root = temp_root();
  Config c = Config::from_data("[path /vod]\nroot=" + root + "\n[path /live]\nroot=" + root +
                                   "\nloop=true\n[path /both]\nroot=" + root + "\nshared=true\n",
                               "site.conf");
  ASSERT_EQ(c.paths.size(), 3u);
  EXPECT_EQ(c.paths[0].root, root);
  EXPECT_TRUE(c.paths[0].is_root());
  EXPECT_FALSE(c.paths[0].shared);
  EXPECT_FALSE(c.paths[0].loop);
  EXPECT_TRUE(c.paths[1].loop);
  EXPECT_TRUE(c.paths[1].shared);
  EXPECT_TRUE(c.paths[2].shared);
  EXPECT_NO_THROW(c.validate());
  EXPECT_NO_THROW(c.check_launch_lines());
}

TEST(Config, RelativeRootIsRelativeToTheFile) {
  std::string root = temp_root();
  Config c = Config::from_data("[path /vod]\nroot=sub\n", root + "/site.conf");
  ASSERT_EQ(c.paths.size(), 1u);
  EXPECT_EQ(c.paths[0].root, root + "/sub");
}

TEST(Config, ServerRootIsTheTopLevelPath) {
  std::string root = temp_root();
  Config c = Config::from_data("[server]\nroot=" + root + "\nloop=yes\n[path /a]\nlaunch=a name=pay0\n",
                               "site.conf");
  EXPECT_EQ(c.server.root, root);
  const PathConfig* top = c.find_path("/");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->root, root);
  EXPECT_TRUE(top->loop);
  EXPECT_EQ(top->line, 2);
  EXPECT_NO_THROW(c.validate());
}

TEST(Config, BadRootsRefusedWithPosition) {
  std::string root = temp_root();
  ConfigError e = error_of("[path /a]\nroot=/nonexistent/media\n[path /b]\nroot=" + root +
                           "\nlaunch=x name=pay0\n[path /c]\nlaunch=x name=pay0\nloop=true\n"
                           "[path /d]\nroot=" + root + "\nloop=true\nshared=false\n[path /e]\n"
                           "root=" + root + "/sub/../nosuch\n");
  ASSERT_EQ(e.issues().size(), 5u) << e.what();
  EXPECT_EQ(e.issues()[0].line, 2);
  EXPECT_EQ(e.issues()[0].key, "root");
  EXPECT_NE(e.issues()[0].reason.find("does not exist"), std::string::npos);
  EXPECT_EQ(e.issues()[1].line, 4);
  EXPECT_NE(e.issues()[1].reason.find("exactly one source"), std::string::npos);
  EXPECT_EQ(e.issues()[2].line, 8);
  EXPECT_NE(e.issues()[2].reason.find("needs root"), std::string::npos);
  EXPECT_EQ(e.issues()[3].line, 12);
  EXPECT_EQ(e.issues()[3].key, "shared");
  EXPECT_EQ(e.issues()[4].line, 14);
  ConfigError s = error_of("[server]\nloop=true\n");
  EXPECT_NE(s.issues()[0].reason.find("needs root"), std::string::npos);
}

TEST(Config, CommandLineRootAndLoop) {
  std::string root = temp_root();
  Config c = Config::from_data("[path /a]\nlaunch=a name=pay0\n", "f");
  std::string arg = root + "/sub";
  const char* argv[] = {"gms", "--root", arg.c_str(), "--loop"};
  CliOptions cli = CliOptions::parse(4, argv);
  EXPECT_EQ(*cli.root, root + "/sub");
  EXPECT_TRUE(cli.loop);
  c.apply(cli);
  const PathConfig* top = c.find_path("/");
  ASSERT_NE(top, nullptr);
  EXPECT_EQ(top->root, root + "/sub");
  EXPECT_TRUE(top->loop);
  EXPECT_EQ(top->origin, "command line");
  EXPECT_NO_THROW(c.validate());
  const char* loop_only[] = {"gms", "--loop"};
  Config d;
  d.apply(CliOptions::parse(2, loop_only));
  EXPECT_THROW(d.validate(), ConfigError);
}

TEST(Config, PlannedKeysAreRefusedAsNotBuilt) {
  ConfigError e = error_of("[path /cam]\nproxy=rtsp://192.0.2.1/x\n");
  EXPECT_NE(e.issues()[0].reason.find("not supported yet"), std::string::npos);
  EXPECT_NE(e.issues()[0].reason.find("proxy"), std::string::npos);
  ConfigError h = error_of("[server]\nhttp-port=8080\n");
  EXPECT_NE(h.issues()[0].reason.find("HTTP"), std::string::npos);
}

TEST(Config, NotUtf8) {
  ConfigError e = error_of(std::string("[server]\nport=\xff\n"));
  EXPECT_NE(e.issues()[0].reason.find("UTF-8"), std::string::npos);
}

TEST(Config, MissingFile) {
  try {
    Config::from_file("/nonexistent/site.conf");
    FAIL();
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/site.conf: cannot read"),
              std::string::npos);
  }
}

TEST(Config, CommandLineWins) {
  Config c = Config::from_data("[server]\nport=1000\n[path /a]\nlaunch=a name=pay0\n", "f");
  const char* argv[] = {"gms", "-p", "2000", "--mount", "/a=b name=pay0", "--mount",
                        "/c=(c name=pay0)", "-v"};
  CliOptions cli = CliOptions::parse(8, argv);
  c.apply(cli);
  EXPECT_EQ(c.server.port, 2000);
  EXPECT_EQ(c.server.verbosity, 1);
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_EQ(c.paths[0].launch, "b name=pay0");
  EXPECT_EQ(c.paths[0].origin, "command line");
  EXPECT_EQ(c.paths[1].launch, "c name=pay0");
  EXPECT_NO_THROW(c.validate());
}

TEST(Config, LaunchLinesParsedAtStart) {
  Config c;
  c.paths.push_back({"/ok", "videotestsrc ! rtpvrawpay name=pay0", true, {}, 7, {}, "f", 1, {}, false});
  c.paths.push_back({"/nopay", "videotestsrc ! fakesink", true, {}, 7, {}, "f", 5, {}, false});
  c.paths.push_back({"/syntax", "videotestsrc ! ! rtpvrawpay name=pay0", true, {}, 7, {}, "f", 9, {}, false});
  c.paths.push_back({"/missing", "videotestsrc ! nosuchenc ! rtph264pay name=pay0", true, {}, 7, {}, "f", 12, {}, false});
  try {
    c.check_launch_lines();
    FAIL();
  } catch (const ConfigError& e) {
    ASSERT_EQ(e.issues().size(), 2u);
    EXPECT_EQ(e.issues()[0].line, 5);
    EXPECT_NE(e.issues()[0].reason.find("no payloader"), std::string::npos);
    EXPECT_EQ(e.issues()[1].line, 9);
    EXPECT_NE(e.issues()[1].reason.find("does not parse"), std::string::npos);
  }
  c.paths.erase(c.paths.begin() + 1, c.paths.begin() + 3);
  auto warnings = c.check_launch_lines();
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].reason.find("nosuchenc"), std::string::npos);
}

TEST(CliOptions, Parses) {
  const char* argv[] = {"gms", "--port=9000", "-a", "::1", "--http-port", "0", "--check", "site.conf"};
  CliOptions o = CliOptions::parse(8, argv);
  EXPECT_EQ(*o.port, 9000);
  EXPECT_EQ(*o.address, "::1");
  EXPECT_EQ(*o.http_port, 0);
  EXPECT_TRUE(o.check);
  EXPECT_EQ(*o.config_file, "site.conf");
}

TEST(CliOptions, Refusals) {
  auto refused = [](std::vector<const char*> args, const std::string& needle) {
    args.insert(args.begin(), "gms");
    try {
      CliOptions::parse(static_cast<int>(args.size()), args.data());
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused({"--bogus"}, "unknown option");
  refused({"-p"}, "needs a value");
  refused({"-p", "70000"}, "out of range");
  refused({"-a", "not-an-ip"}, "not an IP address");
  refused({"--mount", "noequals"}, "PATH=LAUNCH");
  refused({"--mount", "rel=x"}, "start with '/'");
  refused({"--proxy", "rtsp://x"}, "not supported yet");
  refused({"-u", "user", "pass"}, "not supported yet");
  refused({"--root", "/nonexistent/media"}, "does not exist");
  refused({"--root"}, "needs a value");
  refused({"a.conf", "b.conf"}, "only one configuration file");
}

TEST(ValueParsers, StripParentheses) {
  EXPECT_EQ(strip_parentheses("( a ! b )"), "a ! b");
  EXPECT_EQ(strip_parentheses("a ! b"), "a ! b");
  EXPECT_EQ(strip_parentheses("(a) ! (b)"), "(a) ! (b)");
  EXPECT_EQ(strip_parentheses("  ((a) ! b)  "), "(a) ! b");
}

TEST(ValueParsers, DidYouMean) {
  EXPECT_EQ(did_you_mean("shard", {"shared", "launch"}), "shared");
  EXPECT_EQ(did_you_mean("zzzzzzzz", {"shared", "launch"}), "");
}

}  // namespace
}  // namespace gms
