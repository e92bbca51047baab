// Command-line parsing. Hand-written because live555ProxyServer's options
// take two values (-u USER PASS), which GOptionContext cannot express.
#include <gst-mediaserver/config.h>

#include <glib.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <utility>

#include "config/tls_files.h"
#include "config/value_parsers.h"

namespace gms {
namespace {

const char kOrigin[] = "command line";

struct Planned {
  int values;           // how many values the option takes
  const char* feature;  // what it arrives with
};
const std::map<std::string, Planned> kPlanned = {
};

[[noreturn]] void fail(const std::string& option, const std::string& why) {
  throw ConfigError({{kOrigin, 0, "", option, why}});
}

bool is_stream_url(const std::string& arg) {
  return g_str_has_prefix(arg.c_str(), "rtsp://") || g_str_has_prefix(arg.c_str(), "rtsps://");
}

void add_proxy(CliOptions& o, const std::string& option, const std::string& url) {
  std::string why;
  if (!check_rtsp_url(url, why))
    fail(option, why);
  o.proxies.push_back(url);
}

uint16_t port_value(const std::string& opt, const std::string& v, uint64_t min) {
  uint64_t n = 0;
  std::string why;
  if (!parse_uint(v, min, 65535, n, why))
    fail(opt, why);
  return static_cast<uint16_t>(n);
}

}  // namespace

CliOptions CliOptions::parse(int argc, const char* const* argv) {
  CliOptions o;
  int i = 1;
  auto value = [&](const std::string& opt, std::string& inline_value) -> std::string {
    if (!inline_value.empty())
      return std::exchange(inline_value, {});
    if (i + 1 >= argc)
      fail(opt, "needs a value");
    return argv[++i];
  };
  bool options_done = false;
  for (; i < argc; ++i) {
    std::string arg = argv[i];
    if (options_done || arg.empty() || arg[0] != '-' || arg == "-") {
      // live555ProxyServer takes the URLs to relay as bare arguments.
      if (is_stream_url(arg)) {
        add_proxy(o, arg, arg);
        continue;
      }
      if (o.config_file)
        fail(arg, "only one configuration file may be given (already: " + *o.config_file + ")");
      o.config_file = arg;
      continue;
    }
    if (arg == "--") {
      options_done = true;
      continue;
    }
    std::string opt = arg, inl;
    if (arg.rfind("--", 0) == 0) {
      if (auto eq = arg.find('='); eq != std::string::npos) {
        opt = arg.substr(0, eq);
        inl = arg.substr(eq + 1);
        if (inl.empty())
          fail(opt, "needs a value");
      }
    } else if (arg.size() > 2 && std::strchr("paTeD", arg[1])) {
      opt = arg.substr(0, 2);  // -p8554
      inl = arg.substr(2);
    }
    if (opt == "-p" || opt == "--port") {
      o.port = port_value(opt, value(opt, inl), 0);
    } else if (opt == "-a" || opt == "--address") {
      o.address = value(opt, inl);
    } else if (opt == "--http-port") {
      o.http_port = port_value(opt, value(opt, inl), 0);
    } else if (opt == "--tls-cert" || opt == "--tls-key") {
      std::string file = absolute_file(value(opt, inl), {});
      (opt == "--tls-cert" ? o.tls_cert : o.tls_key) = file;
    } else if (opt == "--tls-port") {
      o.tls_port = port_value(opt, value(opt, inl), 0);
    } else if (opt == "--http-tunnel-port") {
      o.http_tunnel_port = port_value(opt, value(opt, inl), 1);
    } else if (opt == "--mount") {
      std::string m = value(opt, inl);
      auto eq = m.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == m.size())
        fail(opt, "expected PATH=LAUNCH, got '" + m + "'");
      std::string path = m.substr(0, eq), why;
      if (!check_path_name(path, why))
        fail(opt, path + ": " + why);
      o.mounts.emplace_back(path, m.substr(eq + 1));
    } else if (opt == "--publish") {
      std::string pattern = value(opt, inl), why;
      if (!check_path_name(pattern, why, true))
        fail(opt, pattern + ": " + why);
      o.publish.push_back(pattern);
    } else if (opt == "--proxy") {
      add_proxy(o, opt, value(opt, inl));
    } else if (opt == "-e") {
      std::string name = value(opt, inl), why;
      if (name.empty() || name.find('/') != std::string::npos || !check_path_name("/" + name, why))
        fail(opt, "'" + name + "' is not a stream name (one path segment, no '/')" +
                      (why.empty() ? "" : ": " + why));
      o.proxy_prefix = name;
    } else if (opt == "-D") {
      uint64_t n = 0;
      std::string why;
      // live555's 0 turns the check off; the relay always checks its back end.
      if (!parse_uint(value(opt, inl), 1, 3600, n, why))
        fail(opt, why + " (seconds without a packet before the back end is reconnected; "
                        "0, no check, is not offered)");
      o.backend_timeout = static_cast<unsigned>(n);
    } else if (opt == "--users") {
      o.users_file = value(opt, inl);
    } else if (opt == "--add-user" || opt == "--remove-user") {
      std::string name = value(opt, inl);
      (opt == "--add-user" ? o.add_user : o.remove_user) = name;
    } else if (opt == "--roles") {
      o.roles = value(opt, inl);
    } else if (opt == "-t") {
      o.backend_transport = "tcp";
    } else if (opt == "-T") {
      o.backend_transport = "http";
      o.backend_http_port = port_value(opt, value(opt, inl), 1);
    } else if (opt == "-u" || opt == "-U" || opt == "-C") {
      if (i + 2 >= argc)
        fail(opt, "needs USER and PASSWORD");
      std::pair<std::string, std::string> cred{argv[i + 1], argv[i + 2]};
      i += 2;
      (opt == "-u"   ? o.backend_credentials
       : opt == "-U" ? o.register_credentials
                     : o.viewer_credentials) = cred;
    } else if (opt == "--record-dir") {
      std::string dir = value(opt, inl), why;
      if (!check_record_dir(dir, {}, why))
        fail(opt, why);
      o.record_dir = dir;
    } else if (opt == "-R") {
      o.accept_register = true;
    } else if (opt == "--root") {
      std::string dir = value(opt, inl), why, abs;
      if (!resolve_root_dir(dir, {}, abs, why))
        fail(opt, why);
      o.root = abs;
    } else if (opt == "--loop") {
      o.loop = true;
    } else if (opt == "-v") {
      o.verbosity = std::max(o.verbosity, 1);
    } else if (opt == "-V") {
      o.verbosity = 2;
    } else if (opt == "--log-format") {
      std::string f = value(opt, inl);
      if (f != "text" && f != "json")
        fail(opt, "'" + f + "' is not a log format (use text or json)");
      o.log_format = f;
    } else if (opt == "--check") {
      o.check = true;
    } else if (opt == "-h" || opt == "--help") {
      o.help = true;
    } else if (opt == "--version") {
      o.version = true;
    } else if (auto it = kPlanned.find(opt); it != kPlanned.end()) {
      fail(opt, std::string("not supported yet: ") + it->second.feature +
                    " is not built in this version");
    } else {
      fail(opt, "unknown option (see --help)");
    }
  }
  if (std::string why; o.address && !check_address(*o.address, why))
    fail("--address", why);
  if ((o.add_user || o.remove_user) && !o.users_file)
    fail(o.add_user ? "--add-user" : "--remove-user", "needs --users FILE");
  if (o.add_user && o.remove_user)
    fail("--add-user", "one of --add-user and --remove-user at a time");
  if (o.add_user && !o.roles)
    fail("--add-user", "needs --roles, e.g. --roles 'read:/*,publish:/live/*'");
  if (o.roles && !o.add_user)
    fail("--roles", "only with --add-user");
  return o;
}

std::string CliOptions::usage() {
  return R"(Usage: gst-mediaserver [OPTION…] [CONFIG] [RTSP-URL…]

RTSP media server on GStreamer. CONFIG is a GLib key file ([server] and
[path /NAME] groups); command-line options win over it.

Options:
  -p, --port PORT          RTSP port (default 8554; 0 picks a free one)
  -a, --address ADDR       bind address (default 0.0.0.0)
      --mount PATH=LAUNCH  serve a gst-launch line at PATH (repeatable), e.g.
                           --mount '/test=videotestsrc is-live=true ! x264enc
                           tune=zerolatency ! rtph264pay name=pay0 pt=96'
      --publish PATTERN    let clients publish (ANNOUNCE/RECORD) to PATTERN, a
                           path or a prefix ending in '*' such as /live/*
                           (repeatable); viewers PLAY the same path
      --root DIR           serve every media file under DIR at
                           rtsp://HOST:PORT/RELATIVE/PATH (launch paths keep
                           their names); the type is found by content
      --loop               play the files of --root in a loop, as live
                           channels shared by their viewers
      --http-port PORT     HTTP API and /metrics on 127.0.0.1:PORT (default 8080;
                           0 turns it off); loopback only until users exist
      --tls-cert FILE      RTSPS with this certificate (PEM) on --tls-port; the
                           HTTP API then speaks HTTPS with it
      --tls-key FILE       its private key (PEM; default: in the --tls-cert file)
      --tls-port PORT      RTSPS port (default 8322; 0 picks a free one)
      --http-tunnel-port PORT  RTSP over HTTP on this port too (the RTSP port
                           tunnels as well)
  -v                       verbose output (connections, sessions)
  -V                       more verbose output (RTSP requests)
      --log-format FORMAT  text (default) or json: one JSON object per line
      --check              validate the configuration, print what would be
                           served, exit
  -h, --help               show this help
      --version            print the version

Proxy (live555ProxyServer's options):
      --proxy URL          relay URL (repeatable; bare rtsp:// URLs after the
                           options do the same): one is served at /proxyStream,
                           several at /proxyStream-1 … /proxyStream-N
  -e NAME                  NAME instead of proxyStream (NAME, NAME-1 …)
  -D SECONDS               reconnect a back end silent for SECONDS (default 5)
  -t                       reach the back ends over TCP (RTP interleaved)
  -T PORT                  reach the back ends over RTSP-over-HTTP on PORT
  -u USER PASS             back-end credentials
  -R                       accept REGISTER: back ends that ask to be proxied
  -U USER PASS             REGISTER needs these credentials (Digest)

Users (RTSP Digest, or Basic over TLS; the HTTP API asks for them too):
      --users FILE         users and their roles; nothing is anonymous unless a
                           path says anonymous=read|publish; SIGHUP reloads it
      --add-user NAME      add or replace NAME in --users FILE and exit; the
                           password is asked (or read as one line from stdin)
      --roles ROLES        with --add-user: read:/*,publish:/live/*,admin:/*
      --remove-user NAME   remove NAME from --users FILE and exit
  -C USER PASS             viewers need these credentials (read on every path)

Recording:
      --record-dir DIR     record every launch, published and proxied path into DIR
                           (fragmented MP4, 60 s segments cut at key frames)


Exit status: 0 on a clean stop, 2 for a configuration or start-up error.
SIGHUP reloads CONFIG; SIGINT and SIGTERM stop cleanly.
)";
}

}  // namespace gms
