// Configuration: parsing, every refusal with its position, CLI overrides.
#include <gst-mediaserver/config.h>
#include <glib/gstdio.h>
#include <gtest/gtest.h>

#include "gms/ref.h"

#include "config/value_parsers.h"

namespace gms {
namespace {

PathConfig launch_path(const std::string& name, const std::string& launch, int line) {
  PathConfig p;
  p.name = name;
  p.launch = launch;
  p.origin = "f";
  p.line = line;
  return p;
}

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

// max-pipelines: a cap by default (each file viewer prepares a pipeline of
// its own), 0 for none, checked like the other numbers.
TEST(Config, MaxPipelines) {
  EXPECT_EQ(Config().server.max_pipelines, 64u);
  EXPECT_EQ(Config::from_data("[server]\nmax-pipelines=0\n", "f").server.max_pipelines, 0u);
  EXPECT_EQ(Config::from_data("[server]\nmax-pipelines=500\n", "f").server.max_pipelines, 500u);
  for (const char* bad : {"-1", "abc", "100001", "1e3", ""}) {
    ConfigError e = error_of(std::string("[server]\nmax-pipelines=") + bad + "\n");
    ASSERT_EQ(e.issues().size(), 1u) << bad;
    EXPECT_EQ(e.issues()[0].key, "max-pipelines") << bad;
    EXPECT_EQ(e.issues()[0].line, 2) << bad;
  }
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
  EXPECT_EQ(e.issues()[1].line, 3);  // the group with two sources
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

TEST(Config, UsersKeys) {
  Config c = Config::from_data(
      "[server]\nusers=users.txt\nrealm=site\nallow-basic-plaintext=true\nnonce-lifetime=60\n"
      "[path /a]\nlaunch=videotestsrc ! rtpvrawpay name=pay0\nanonymous=read\n",
      "/etc/gms/site.conf");
  EXPECT_EQ(c.server.users_file, "/etc/gms/users.txt");  // relative to the file
  EXPECT_EQ(c.server.realm, "site");
  EXPECT_TRUE(c.server.allow_basic_plaintext);
  EXPECT_EQ(c.server.nonce_lifetime, 60u);
  EXPECT_EQ(c.paths[0].anonymous, "read");
  ConfigError e = error_of("[server]\nrealm=a\"b\n");
  EXPECT_EQ(e.issues()[0].key, "realm");
  ConfigError a = error_of("[path /a]\nlaunch=x ! rtpvrawpay name=pay0\nanonymous=all\n");
  EXPECT_EQ(a.issues()[0].key, "anonymous");
  // Off loopback, the API needs users.
  Config open = Config::from_data("[server]\nhttp-address=0.0.0.0\n", "t");
  EXPECT_THROW(open.validate(), ConfigError);
  open.server.users_file = "/etc/gms/users.txt";
  EXPECT_NO_THROW(open.validate());
}

TEST(Config, HttpPortDefaultsTo8080AndNeedsItsOwnPort) {
  Config d = Config::from_data("", "t");
  EXPECT_EQ(d.server.http_port, 8080);
  Config off = Config::from_data("[server]\nhttp-port=0\n", "t");
  EXPECT_EQ(off.server.http_port, 0);
  EXPECT_NO_THROW(off.validate());
  Config other = Config::from_data("[server]\nhttp-port=9090\n", "t");
  EXPECT_EQ(other.server.http_port, 9090);
  EXPECT_NO_THROW(other.validate());
  Config same = Config::from_data("[server]\nport=8554\nhttp-port=8554\n", "t");
  EXPECT_THROW(same.validate(), ConfigError);
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
  c.paths.push_back(launch_path("/ok", "videotestsrc ! rtpvrawpay name=pay0", 1));
  c.paths.push_back(launch_path("/nopay", "videotestsrc ! fakesink", 5));
  c.paths.push_back(launch_path("/syntax", "videotestsrc ! ! rtpvrawpay name=pay0", 9));
  c.paths.push_back(launch_path("/missing", "videotestsrc ! nosuchenc ! rtph264pay name=pay0", 12));
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
  refused({"--proxy", "http://x/y"}, "not an rtsp:// URL");
  refused({"-u", "user"}, "needs USER and PASSWORD");
  refused({"-T", "0"}, "out of range");
  refused({"--add-user", "x"}, "needs --users FILE");
  refused({"--users", "f", "--add-user", "x"}, "needs --roles");
  refused({"--record-dir", "/proc/no/such"}, "cannot create");
  refused({"--root", "/nonexistent/media"}, "does not exist");
  refused({"--root"}, "needs a value");
  refused({"a.conf", "b.conf"}, "only one configuration file");
}

TEST(Config, ReadsPublishPaths) {
  Config c = Config::from_data(R"([server]
max-publishers=10
max-viewers=500

[path /live/*]
publish=true
override=true
keep-viewers=true
wait-publisher=3
publisher-timeout=2
gop-cache=false
max-viewers=20

[path /cam]
publish=yes
)",
                               "site.conf");
  EXPECT_EQ(c.server.max_publishers, 10u);
  EXPECT_EQ(c.server.max_viewers, 500u);
  ASSERT_EQ(c.paths.size(), 2u);
  const PathConfig& p = c.paths[0];
  EXPECT_EQ(p.name, "/live/*");
  EXPECT_TRUE(p.publish);
  EXPECT_TRUE(p.is_pattern());
  EXPECT_EQ(p.prefix(), "/live/");
  EXPECT_TRUE(p.override_publisher);
  EXPECT_TRUE(p.keep_viewers);
  EXPECT_EQ(p.wait_publisher, 3u);
  EXPECT_EQ(p.publisher_timeout, 2u);
  EXPECT_FALSE(p.gop_cache);
  EXPECT_EQ(p.max_viewers, 20u);
  const PathConfig& q = c.paths[1];
  EXPECT_TRUE(q.publish);
  EXPECT_FALSE(q.is_pattern());
  EXPECT_FALSE(q.override_publisher);
  EXPECT_FALSE(q.keep_viewers);
  EXPECT_EQ(q.publisher_timeout, 5u);
  EXPECT_TRUE(q.gop_cache);
  EXPECT_EQ(q.max_viewers, 0u);
  EXPECT_NO_THROW(c.validate());
}

TEST(Config, PublishRefusals) {
  ConfigError e = error_of(R"([path /a*]
launch=videotestsrc ! rtpvrawpay name=pay0
[path /b]
publish=true
launch=videotestsrc ! rtpvrawpay name=pay0
[path /c]
launch=videotestsrc ! rtpvrawpay name=pay0
override=true
[path /d]
publish=maybe
publisher-timeout=0
wait-publisher=9999
[path /*]
publish=true
[path /x*y*]
publish=true
[server]
max-publishers=-1
)");
  // /d's publish=maybe leaves it a launch path: no source, publish-only keys.
  std::vector<std::string> want = {"only for publish and proxy paths", "not several",
                                   "only for publish paths", "not a boolean", "out of range", "out of range",
                                   "no source", "only for publish paths", "only for publish paths",
                                   "every path", "only at the end", "not a whole number"};
  ASSERT_EQ(e.issues().size(), want.size()) << e.what();
  for (size_t i = 0; i < want.size(); ++i)
    EXPECT_NE(e.issues()[i].reason.find(want[i]), std::string::npos)
        << i << ": " << e.issues()[i].to_string();
}

TEST(Config, PublishFromCommandLine) {
  const char* argv[] = {"gms", "--publish", "/live/*", "--publish=/cam"};
  CliOptions o = CliOptions::parse(4, argv);
  ASSERT_EQ(o.publish.size(), 2u);
  Config c;
  c.apply(o);
  c.validate();
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_TRUE(c.paths[0].publish);
  EXPECT_EQ(c.paths[0].name, "/live/*");
  EXPECT_EQ(c.paths[1].name, "/cam");
  const char* bad[] = {"gms", "--publish", "/*"};
  EXPECT_THROW(CliOptions::parse(3, bad), ConfigError);
  const char* star[] = {"gms", "--mount", "/a*=videotestsrc ! rtpvrawpay name=pay0"};
  EXPECT_THROW(CliOptions::parse(3, star), ConfigError);
}

TEST(ValueParsers, PathPatterns) {
  std::string why;
  EXPECT_TRUE(check_path_name("/live/*", why, true)) << why;
  EXPECT_TRUE(check_path_name("/cam*", why, true)) << why;
  EXPECT_FALSE(check_path_name("/live/*", why, false));
  EXPECT_FALSE(check_path_name("/*", why, true));
  EXPECT_FALSE(check_path_name("/a/../*", why, true));
  EXPECT_FALSE(check_path_name("/a*/b*", why, true));
}

TEST(Config, ProxyPaths) {
  Config c = Config::from_data(
      "[path /cam]\nproxy=rtsp://u:p@192.0.2.10:554/stream1\nbackend-transport=tcp\n"
      "on-demand=true\nlinger=3\ntimeout=2\nbackoff-max=30\nlatency=0\n"
      "[server]\nregister=true\nregister-user=a\nregister-password=b\n",
      "f");
  ASSERT_EQ(c.paths.size(), 1u);
  const PathConfig& p = c.paths[0];
  EXPECT_TRUE(p.is_proxy());
  EXPECT_EQ(p.backend_transport, "tcp");
  EXPECT_TRUE(p.on_demand);
  EXPECT_EQ(p.linger, 3u);
  EXPECT_EQ(p.timeout, 2u);
  EXPECT_EQ(p.backoff_max, 30u);
  EXPECT_TRUE(c.server.accept_register);
  EXPECT_EQ(c.server.register_user, "a");

  ConfigError e = error_of(
      "[path /a]\nproxy=notaurl\nbackend-transport=carrier-pigeon\n"
      "[path /b]\nproxy=rtsp://h/x\nlaunch=a name=pay0\n[path /c]\nlaunch=a name=pay0\ntimeout=3\n"
      "[path /d]\npublish=true\nlinger=3\n");
  ASSERT_EQ(e.issues().size(), 5u);
  EXPECT_NE(e.issues()[0].reason.find("not an rtsp:// URL"), std::string::npos);
  EXPECT_NE(e.issues()[1].reason.find("carrier-pigeon"), std::string::npos);
  EXPECT_NE(e.issues()[2].reason.find("one source"), std::string::npos);
  EXPECT_NE(e.issues()[3].reason.find("only for proxy paths"), std::string::npos);
  EXPECT_NE(e.issues()[4].reason.find("only for proxy and launch paths"), std::string::npos);
}

TEST(Config, PatternProxiesAndDraining) {
  Config c = Config::from_data(
      "[server]\ndrain-timeout=30\nhealth-address=0.0.0.0\n"
      "[path /live/*]\nproxy=rtsp://origin:8554/$path\nlinger=2\n",
      "f");
  c.validate();
  ASSERT_EQ(c.paths.size(), 1u);
  EXPECT_TRUE(c.paths[0].is_pattern());
  EXPECT_TRUE(c.paths[0].is_proxy());
  EXPECT_EQ(c.server.drain_timeout, 30u);
  EXPECT_EQ(c.server.health_address, "0.0.0.0");
  EXPECT_EQ(Config().server.drain_timeout, 0u);

  ConfigError e = error_of(
      "[path /a/*]\nproxy=rtsp://o/$path\non-demand=false\n"
      "[server]\ndrain-timeout=x\nhealth-address=nowhere\n");
  ASSERT_EQ(e.issues().size(), 3u) << e.what();
  EXPECT_NE(e.issues()[0].reason.find("first viewer"), std::string::npos) << e.what();
  EXPECT_NE(e.issues()[1].reason.find("not a whole number"), std::string::npos) << e.what();
  EXPECT_NE(e.issues()[2].reason.find("not an IP address"), std::string::npos) << e.what();
}

TEST(Config, LaunchLifetime) {
  Config c = Config::from_data(
      "[path /a]\nlaunch=a name=pay0\n"
      "[path /b]\nlaunch=a name=pay0\nalways-on=true\nlinger=0\nstart-timeout=3\n",
      "f");
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_FALSE(c.paths[0].always_on);
  EXPECT_EQ(c.paths[0].linger, 10u);
  EXPECT_EQ(c.paths[0].start_timeout, 10u);
  EXPECT_TRUE(c.paths[1].always_on);
  EXPECT_EQ(c.paths[1].linger, 0u);
  EXPECT_EQ(c.paths[1].start_timeout, 3u);
  EXPECT_FALSE(c.paths[0].same_source(c.paths[1]));

  ConfigError e = error_of(
      "[path /a]\nlaunch=a name=pay0\nalways-on=maybe\nstart-timeout=0\n"
      "[path /b]\nlaunch=a name=pay0\nshared=false\nalways-on=true\n"
      "[path /c]\nproxy=rtsp://h/x\nalways-on=true\nstart-timeout=5\n");
  ASSERT_EQ(e.issues().size(), 5u);
  EXPECT_EQ(e.issues()[0].key, "always-on");
  EXPECT_EQ(e.issues()[1].key, "start-timeout");
  EXPECT_NE(e.issues()[2].reason.find("shared=false"), std::string::npos);
  EXPECT_NE(e.issues()[3].reason.find("only for launch paths"), std::string::npos);
  EXPECT_NE(e.issues()[4].reason.find("only for launch paths"), std::string::npos);
}

TEST(CliOptions, Live555ProxyServerOptions) {
  const char* argv[] = {"gms", "--proxy", "rtsp://a/1", "--proxy", "rtsp://b/2", "-t",
                        "-u", "user", "pw", "-R", "-U", "ru", "rp", "-V"};
  CliOptions o = CliOptions::parse(14, argv);
  Config c;
  c.apply(o);
  ASSERT_EQ(c.paths.size(), 2u);
  EXPECT_EQ(c.paths[0].name, "/proxyStream-1");
  EXPECT_EQ(c.paths[1].name, "/proxyStream-2");
  EXPECT_EQ(c.paths[1].proxy, "rtsp://b/2");
  EXPECT_EQ(c.paths[0].backend_transport, "tcp");
  EXPECT_EQ(c.paths[1].backend_user, "user");
  EXPECT_EQ(c.paths[1].backend_password, "pw");
  EXPECT_TRUE(c.server.accept_register);
  EXPECT_EQ(c.server.register_password, "rp");
  EXPECT_EQ(c.server.verbosity, 2);
  const char* argv2[] = {"gms", "--proxy", "rtsp://a/1", "-T", "8080"};
  Config c2;
  c2.apply(CliOptions::parse(5, argv2));
  EXPECT_EQ(c2.paths[0].backend_transport, "http");
  EXPECT_EQ(c2.paths[0].backend_http_port, 8080);
  EXPECT_NO_THROW(c2.validate());
}

// live555ProxyServer command lines as scripts have them: options, then the
// URLs; the names its main program gives them.
TEST(CliOptions, Live555CommandLinesUnchanged) {
  struct Case {
    std::vector<const char*> args;
    std::vector<std::string> names;  // in URL order
    std::string transport = "auto";
    unsigned timeout = 5;
  };
  const std::vector<Case> cases = {
      {{"rtsp://cam1/s"}, {"/proxyStream"}},
      {{"-t", "-p", "8554", "rtsp://cam1/s", "rtsp://cam2/s"},
       {"/proxyStream-1", "/proxyStream-2"},
       "tcp"},
      {{"-v", "rtsp://a/1", "rtsp://b/2", "rtsps://c/3"},
       {"/proxyStream-1", "/proxyStream-2", "/proxyStream-3"}},
      {{"-e", "cam", "rtsp://a/1"}, {"/cam"}},
      {{"-e", "cam", "-D", "12", "rtsp://a/1", "rtsp://b/2"}, {"/cam-1", "/cam-2"}, "auto", 12},
      {{"-T", "8080", "-u", "u", "p", "rtsp://a/1"}, {"/proxyStream"}, "http"},
      {{"--proxy", "rtsp://a/1", "rtsp://b/2"}, {"/proxyStream-1", "/proxyStream-2"}},
  };
  for (const auto& k : cases) {
    std::vector<const char*> argv = k.args;
    argv.insert(argv.begin(), "gms");
    CliOptions o = CliOptions::parse(static_cast<int>(argv.size()), argv.data());
    EXPECT_FALSE(o.config_file) << k.args.back();
    Config c;
    c.apply(o);
    ASSERT_EQ(c.paths.size(), k.names.size()) << k.args.back();
    for (size_t i = 0; i < k.names.size(); ++i) {
      EXPECT_EQ(c.paths[i].name, k.names[i]);
      EXPECT_EQ(c.paths[i].backend_transport, k.transport) << k.names[i];
      EXPECT_EQ(c.paths[i].timeout, k.timeout) << k.names[i];
    }
    EXPECT_NO_THROW(c.validate()) << k.args.back();
  }
  // A configuration file beside the URLs is still a configuration file.
  const char* mixed[] = {"gms", "-t", "site.conf", "rtsp://a/1"};
  CliOptions o = CliOptions::parse(4, mixed);
  EXPECT_EQ(*o.config_file, "site.conf");
  EXPECT_EQ(o.proxies, std::vector<std::string>{"rtsp://a/1"});
}

TEST(CliOptions, Live555FlagsWeDoNotHaveAreNamed) {
  auto refused = [](std::vector<const char*> args, const std::string& needle) {
    args.insert(args.begin(), "gms");
    try {
      CliOptions::parse(static_cast<int>(args.size()), args.data());
      ADD_FAILURE() << "accepted: " << needle;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refused({"-C", "u"}, "needs USER and PASSWORD");
  refused({"-D", "0", "rtsp://a/1"}, "-D");
  refused({"-D", "x", "rtsp://a/1"}, "-D");
  refused({"-e", "a/b", "rtsp://a/1"}, "not a stream name");
  refused({"-e"}, "needs a value");
  refused({"-q", "rtsp://a/1"}, "-q");
  refused({"rtsp://"}, "not an rtsp:// URL");
}

TEST(Config, RecordingKeys) {
  GCharPtr dir(g_dir_make_tmp("gms-cfg-XXXXXX", nullptr));
  Config c = Config::from_data(std::string("[server]\nrecord-dir=") + dir.get() +
                                   "\n[path /cam]\nproxy=rtsp://h/x\nrecord-format=mkv\n"
                                   "segment-duration=10\ndelete-after=3600\nmax-bytes=1000000\n",
                               "f");
  EXPECT_EQ(c.server.record_dir, dir.get());
  EXPECT_EQ(c.paths[0].record_format, "mkv");
  EXPECT_EQ(c.paths[0].segment_duration, 10u);
  EXPECT_EQ(c.paths[0].delete_after, 3600u);
  EXPECT_EQ(c.paths[0].max_bytes, 1000000u);
  EXPECT_NO_THROW(c.validate());

  ConfigError e = error_of("[path /a]\nproxy=rtsp://h/x\nrecord-format=avi\n");
  EXPECT_NE(e.issues()[0].reason.find("avi"), std::string::npos);
  Config nodir = Config::from_data("[path /a]\nproxy=rtsp://h/x\nrecord=true\n", "f");
  EXPECT_THROW(nodir.validate(), ConfigError);
  Config launch = Config::from_data(std::string("[server]\nrecord-dir=") + dir.get() +
                                        "\n[path /a]\nlaunch=x name=pay0\nrecord=true\n",
                                    "f");
  EXPECT_NO_THROW(launch.validate());
  Config files = Config::from_data(std::string("[server]\nrecord-dir=") + dir.get() +
                                       "\n[path /a]\nroot=" + dir.get() + "\nrecord=true\n",
                                   "f");
  try {
    files.validate();
    FAIL();
  } catch (const ConfigError& err) {
    EXPECT_NE(std::string(err.what()).find("are not recorded"), std::string::npos);
  }
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
