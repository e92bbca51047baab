// Configuration: key file + command line → one validated value.
#include <gst-mediaserver/config.h>

#include <glib.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "auth/users.h"
#include "config/key_file_reader.h"
#include "config/path_keys.h"
#include "config/tls_files.h"
#include "config/value_parsers.h"
#include "gms/ref.h"

namespace gms {
namespace {

const char kCommandLine[] = "command line";

// Keys that belong to features not built yet: refused with this reason
// instead of "unknown", so users know the name is right.
const std::map<std::string, std::string> kPlannedServerKeys = {
};
const std::map<std::string, std::string> kPlannedPathKeys = {};
const std::vector<std::string> kServerKeys = {
    "port", "address", "http-port", "threads", "backlog", "max-request-size",
    "session-timeout", "max-sessions", "max-connections", "max-connections-per-address",
    "request-timeout", "verbose", "max-publishers", "max-viewers", "max-pipelines", "register",
    "register-user", "register-password", "root", "loop", "record-dir", "log-format",
    "api-writes-config", "tls-cert", "tls-key", "tls-port", "http-tunnel-port",
    "drain-timeout", "health-address", "users", "realm", "allow-basic-plaintext",
    "nonce-lifetime", "http-address"};
// Path keys: config/path_keys.h.
const std::vector<std::string>& path_key_list(std::optional<PathKeyScope> scope = std::nullopt) {
  static const std::vector<std::string> all = path_key_names();
  static const std::vector<std::string> proxy = path_key_names(PathKeyScope::kProxy);
  static const std::vector<std::string> launch = path_key_names(PathKeyScope::kLaunch);
  static const std::vector<std::string> publish = path_key_names(PathKeyScope::kPublish);
  if (!scope)
    return all;
  return *scope == PathKeyScope::kProxy ? proxy : *scope == PathKeyScope::kLaunch ? launch : publish;
}

// Relative roots in a file are read relative to that file's directory.
std::string base_dir_of(const std::string& origin) {
  if (origin == kCommandLine)
    return {};
  GCharPtr dir(g_path_get_dirname(origin.c_str()));
  return dir.get();
}

std::vector<std::string> with_planned(const std::vector<std::string>& keys,
                                      const std::map<std::string, std::string>& planned) {
  std::vector<std::string> all = keys;
  for (const auto& [k, _] : planned)
    all.push_back(k);
  return all;
}

// A users file named in a config file is read relative to that file.
bool resolve_file(const std::string& value, const std::string& base, std::string& out,
                  std::string& why) {
  if (value.empty()) {
    why = "empty file name";
    return false;
  }
  if (g_path_is_absolute(value.c_str()) || base.empty()) {
    out = value;
    return true;
  }
  GCharPtr joined(g_build_filename(base.c_str(), value.c_str(), nullptr));
  out = joined.get();
  return true;
}

// The realm goes between quotes in every challenge.
bool check_realm(const std::string& v, std::string& why) {
  if (v.empty() || v.size() > 128 || v.find_first_of("\"\\\r\n") != std::string::npos) {
    why = "a realm has 1 to 128 characters, no quotes, backslashes or line breaks";
    return false;
  }
  return true;
}

class Reader {
 public:
  Reader(const std::string& origin, std::vector<ConfigIssue>& issues)
      : origin_(origin), issues_(issues) {}

  int server_root_line = 0;

  void server(const GroupEntry& g, ServerConfig& s) {
    for (const auto& k : g.keys) {
      if (!known(g, k, kServerKeys, kPlannedServerKeys))
        continue;
      uint64_t n = 0;
      std::string why;
      bool ok = true;
      if (k.key == "port") {
        ok = parse_uint(k.value, 0, 65535, n, why);
        s.port = static_cast<uint16_t>(n);
      } else if (k.key == "http-port") {
        ok = parse_uint(k.value, 0, 65535, n, why);
        s.http_port = static_cast<uint16_t>(n);
      } else if (k.key == "address") {
        ok = check_address(k.value, why);
        s.address = k.value;
      } else if (k.key == "threads") {
        ok = parse_uint(k.value, 0, 256, n, why);
        s.threads = static_cast<unsigned>(n);
      } else if (k.key == "backlog") {
        ok = parse_uint(k.value, 1, 65535, n, why);
        s.backlog = static_cast<unsigned>(n);
      } else if (k.key == "max-request-size") {
        ok = parse_uint(k.value, 1024, 16 * 1024 * 1024, n, why);
        s.max_request_size = static_cast<unsigned>(n);
      } else if (k.key == "session-timeout") {
        ok = parse_uint(k.value, 2, 86400, n, why);
        s.session_timeout = static_cast<unsigned>(n);
      } else if (k.key == "max-sessions") {
        ok = parse_uint(k.value, 1, 1000000, n, why);
        s.max_sessions = static_cast<unsigned>(n);
      } else if (k.key == "max-connections") {
        ok = parse_uint(k.value, 1, 1000000, n, why);
        s.max_connections = static_cast<unsigned>(n);
      } else if (k.key == "max-connections-per-address") {
        ok = parse_uint(k.value, 0, 1000000, n, why);
        s.max_connections_per_address = static_cast<unsigned>(n);
      } else if (k.key == "request-timeout") {
        ok = parse_uint(k.value, 1, 600, n, why);
        s.request_timeout = static_cast<unsigned>(n);
      } else if (k.key == "verbose") {
        ok = parse_uint(k.value, 0, 2, n, why);
        s.verbosity = static_cast<int>(n);
      } else if (k.key == "record-dir") {
        s.record_dir = k.value;
        ok = check_record_dir(s.record_dir, base_dir_of(origin_), why);
      } else if (k.key == "register") {
        ok = parse_bool(k.value, s.accept_register, why);
      } else if (k.key == "register-user") {
        s.register_user = k.value;
      } else if (k.key == "register-password") {
        s.register_password = k.value;
      } else if (k.key == "max-publishers") {
        ok = parse_uint(k.value, 0, 100000, n, why);
        s.max_publishers = static_cast<unsigned>(n);
      } else if (k.key == "max-viewers") {
        ok = parse_uint(k.value, 0, 1000000, n, why);
        s.max_viewers = static_cast<unsigned>(n);
      } else if (k.key == "max-pipelines") {
        ok = parse_uint(k.value, 0, 100000, n, why);
        s.max_pipelines = static_cast<unsigned>(n);
      } else if (k.key == "root") {
        ok = resolve_root_dir(k.value, base_dir_of(origin_), s.root, why);
        server_root_line = k.line;
      } else if (k.key == "loop") {
        ok = parse_bool(k.value, s.loop, why);
      } else if (k.key == "drain-timeout") {
        ok = parse_uint(k.value, 0, 86400, n, why);
        s.drain_timeout = static_cast<unsigned>(n);
      } else if (k.key == "health-address") {
        ok = check_address(k.value, why);
        s.health_address = k.value;
      } else if (k.key == "log-format") {
        s.log_format = k.value;
        ok = k.value == "text" || k.value == "json";
        if (!ok)
          why = "'" + k.value + "' is not a log format (use text or json)";
      } else if (k.key == "api-writes-config") {
        ok = parse_bool(k.value, s.api_writes_config, why);
      } else if (k.key == "users") {
        ok = resolve_file(k.value, base_dir_of(origin_), s.users_file, why);
      } else if (k.key == "realm") {
        s.realm = k.value;
        ok = check_realm(k.value, why);
      } else if (k.key == "allow-basic-plaintext") {
        ok = parse_bool(k.value, s.allow_basic_plaintext, why);
      } else if (k.key == "nonce-lifetime") {
        ok = parse_uint(k.value, 1, 86400, n, why);
        s.nonce_lifetime = static_cast<unsigned>(n);
      } else if (k.key == "http-address") {
        ok = check_address(k.value, why);
        s.http_address = k.value;
      } else if (k.key == "tls-cert" || k.key == "tls-key") {
        (k.key == "tls-cert" ? s.tls_cert : s.tls_key) =
            absolute_file(k.value, base_dir_of(origin_));
      } else if (k.key == "tls-port" || k.key == "http-tunnel-port") {
        ok = parse_uint(k.value, k.key == "tls-port" ? 0 : 1, 65535, n, why);
        (k.key == "tls-port" ? s.tls_port : s.http_tunnel_port) = static_cast<uint16_t>(n);
      }
      if (!ok)
        add(g, k, why);
    }
  }

  void path(const GroupEntry& g, const std::string& name, PathConfig& p) {
    p.name = name;
    p.origin = origin_;
    p.line = g.line;
    const std::string base = base_dir_of(origin_);
    for (const auto& k : g.keys) {
      if (!known(g, k, path_key_list(), kPlannedPathKeys))
        continue;
      for (const auto& key : path_keys()) {
        std::string why;
        if (k.key == key.name && !key.read(k.value, base, p, why))
          add(g, k, why);
      }
    }
    const bool shared_given = g.find("shared") != nullptr;
    const KeyEntry* launch = g.find("launch");
    const KeyEntry* root = g.find("root");
    int sources = (launch ? 1 : 0) + (root ? 1 : 0) + (p.publish ? 1 : 0) + (p.is_proxy() ? 1 : 0);
    if (sources > 1) {
      issues_.push_back({origin_, g.line, g.name, "",
                         "a path has exactly one source (launch=, root=, publish=true or proxy=), "
                         "not several"});
    } else if (sources == 0) {
      issues_.push_back({origin_, g.line, g.name, "",
                         "the path has no source: set launch=, root=, publish=true or proxy="});
    }
    if (!p.is_proxy()) {
      for (const auto& key : path_key_list(PathKeyScope::kProxy))
        if (const KeyEntry* k = g.find(key))
          add(g, *k, "only for proxy paths (set proxy=URL)");
    }
    if (const KeyEntry* k = g.find("linger"); k && !p.is_proxy() && !launch)
      add(g, *k, "only for proxy and launch paths (set proxy=URL or launch=)");
    if (!launch) {
      for (const auto& key : path_key_list(PathKeyScope::kLaunch))
        if (const KeyEntry* k = g.find(key))
          add(g, *k, "only for launch paths (set launch=)");
    } else if (const KeyEntry* k = g.find("always-on"); k && !p.shared) {
      add(g, *k, "a launch line with shared=false runs per viewer; remove always-on");
    }
    if (!p.publish) {
      for (const auto& key : path_key_list(PathKeyScope::kPublish))
        if (const KeyEntry* k = g.find(key))
          add(g, *k, "only for publish paths (set publish=true)");
    }
    if (p.is_pattern() && !p.publish && !p.is_proxy())
      issues_.push_back({origin_, g.line, g.name, "",
                         "a name ending in '*' is only for publish and proxy paths"});
    // Each path below a pattern proxy connects at its first viewer.
    if (const KeyEntry* k = g.find("on-demand"); k && p.is_pattern() && p.is_proxy() && !p.on_demand)
      add(g, *k, "a pattern proxy connects each path at its first viewer; remove on-demand=false");
    if (const KeyEntry* loop = g.find("loop"); loop && !root)
      issues_.push_back({origin_, loop->line, g.name, "loop", "loop= needs root= (media files)"});
    if (root && p.loop && shared_given && !p.shared)
      issues_.push_back({origin_, g.find("shared")->line, g.name, "shared",
                         "loop=true plays a live channel shared by its viewers; "
                         "remove shared=false"});
    // Files: each viewer gets its own position unless sharing is asked for.
    if (root && !shared_given)
      p.shared = p.loop;
  }

  void add(const GroupEntry& g, const KeyEntry& k, const std::string& why) {
    issues_.push_back({origin_, k.line, g.name, k.key, why});
  }

 private:
  bool known(const GroupEntry& g, const KeyEntry& k, const std::vector<std::string>& keys,
             const std::map<std::string, std::string>& planned) {
    if (std::find(keys.begin(), keys.end(), k.key) != keys.end())
      return true;
    if (auto it = planned.find(k.key); it != planned.end()) {
      add(g, k, "not supported yet: " + it->second + " is not built in this version");
      return false;
    }
    std::string hint = did_you_mean(k.key, with_planned(keys, planned));
    add(g, k, "unknown key" + (hint.empty() ? std::string() : "; did you mean '" + hint + "'?"));
    return false;
  }

  std::string origin_;
  std::vector<ConfigIssue>& issues_;
};

// The top-level root ([server] root, --root) is served as the path "/".
void sync_top_root(Config& cfg, const std::string& origin, int line) {
  std::erase_if(cfg.paths, [](const PathConfig& p) { return p.name == "/"; });
  if (cfg.server.root.empty())
    return;
  PathConfig p;
  p.name = "/";
  p.root = cfg.server.root;
  p.loop = cfg.server.loop;
  p.shared = p.loop;
  p.origin = origin;
  p.line = line;
  cfg.paths.push_back(std::move(p));
}

// The files are read here so that a bad certificate or CA stops the start
// (and --check) with its reason, not the first viewer.
void check_server_tls(const ServerConfig& s, std::vector<ConfigIssue>& issues) {
  auto issue = [&](const char* key, std::string why) {
    issues.push_back({kCommandLine, 0, "server", key, std::move(why)});
  };
  if (s.tls_cert.empty()) {
    if (!s.tls_key.empty())
      issue("tls-key", "a key without a certificate: set tls-cert too");
  } else if (std::string why; !load_certificate(s.tls_cert, s.tls_key, why)) {
    issue("tls-cert", why);
  } else {
    if (s.tls_port != 0 && s.tls_port == s.port)
      issue("tls-port", "RTSPS needs a port of its own (" + std::to_string(s.port) +
                            " is the RTSP port)");
    if (s.tls_port != 0 && s.tls_port == s.http_port)
      issue("tls-port", "RTSPS and the HTTP API cannot share port " + std::to_string(s.tls_port));
  }
  uint16_t t = s.http_tunnel_port;
  if (t != 0 && (t == s.port || t == s.http_port || (!s.tls_cert.empty() && t == s.tls_port)))
    issue("http-tunnel-port", "port " + std::to_string(t) + " is taken by another listener "
                              "(the RTSP port tunnels RTSP over HTTP already)");
}

void check_path_tls(const PathConfig& p, const ServerConfig& s, const std::string& group,
                    std::vector<ConfigIssue>& issues) {
  if (p.require_tls && s.tls_cert.empty())
    issues.push_back({p.origin, p.line, group, "require-tls",
                      "no RTSPS to require: set tls-cert (and tls-key) in [server] or "
                      "--tls-cert"});
  if (!p.backend_tls_ca.empty()) {
    std::string why;
    if (!load_ca_file(p.backend_tls_ca, why))
      issues.push_back({p.origin, p.line, group, "backend-tls-ca", why});
  }
}

}  // namespace

std::string ConfigIssue::to_string() const {
  std::string s = origin;
  if (line > 0)
    s += ":" + std::to_string(line);
  s += ": ";
  if (!group.empty())
    s += "[" + group + "] ";
  if (!key.empty())
    s += key + ": ";
  return s + reason;
}

namespace {
std::string join_issues(const std::vector<ConfigIssue>& issues) {
  std::string msg;
  for (const auto& i : issues) {
    if (!msg.empty())
      msg += "\n";
    msg += i.to_string();
  }
  return msg;
}
}  // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : std::runtime_error(join_issues(issues)), issues_(std::move(issues)) {}

unsigned ServerConfig::effective_threads() const {
  if (threads > 0)
    return threads;
  // A DESCRIBE blocks its client thread while a pipeline starts (a file is
  // probed, a back end connects), and every connection on that thread waits:
  // the stock default is 1. Threads start only when needed.
  return std::max(16u, 4u * std::max(1u, std::thread::hardware_concurrency()));
}

Config Config::from_data(const std::string& text, const std::string& origin) {
  std::vector<ConfigIssue> issues;
  KeyFileContents kf = read_key_file(text, origin, issues);
  Config cfg;
  Reader reader(origin, issues);
  for (const auto& g : kf.groups) {
    if (g.name == "server") {
      reader.server(g, cfg.server);
    } else if (g.name.rfind("path", 0) == 0 && (g.name.size() == 4 || g.name[4] == ' ')) {
      std::string name = g.name.size() > 4 ? g.name.substr(5) : "";
      name.erase(0, name.find_first_not_of(' '));
      std::string why;
      if (!check_path_name(name, why, true)) {
        issues.push_back({origin, g.line, g.name, "", why});
        continue;
      }
      PathConfig p;
      reader.path(g, name, p);
      cfg.paths.push_back(std::move(p));
    } else {
      issues.push_back({origin, g.line, g.name, "",
                        "unknown group; expected [server] or [path /NAME]"});
    }
  }
  if (cfg.server.loop && cfg.server.root.empty()) {
    for (const auto& g : kf.groups)
      if (const KeyEntry* k = g.name == "server" ? g.find("loop") : nullptr)
        issues.push_back({origin, k->line, g.name, "loop", "loop= needs root= (media files)"});
  }
  sync_top_root(cfg, origin, reader.server_root_line);
  if (!issues.empty())
    throw ConfigError(std::move(issues));
  return cfg;
}

Config Config::from_file(const std::string& file) {
  Config cfg = from_data(read_config_text(file), file);
  cfg.server.config_file = file;
  return cfg;
}

void Config::apply(const CliOptions& cli) {
  if (cli.port)
    server.port = *cli.port;
  if (cli.address)
    server.address = *cli.address;
  if (cli.http_port)
    server.http_port = *cli.http_port;
  if (cli.tls_cert)
    server.tls_cert = *cli.tls_cert;
  if (cli.tls_key)
    server.tls_key = *cli.tls_key;
  if (cli.tls_port)
    server.tls_port = *cli.tls_port;
  if (cli.http_tunnel_port)
    server.http_tunnel_port = *cli.http_tunnel_port;
  if (cli.verbosity > server.verbosity)
    server.verbosity = cli.verbosity;
  if (cli.log_format)
    server.log_format = *cli.log_format;
  if (cli.config_file)
    server.config_file = *cli.config_file;
  if (cli.root || cli.loop) {
    auto top = std::find_if(paths.begin(), paths.end(),
                            [](const PathConfig& q) { return q.name == "/"; });
    std::string origin = top != paths.end() ? top->origin : std::string(kCommandLine);
    int line = top != paths.end() ? top->line : 0;
    if (cli.root) {
      server.root = *cli.root;
      origin = kCommandLine;
      line = 0;
    }
    server.loop = server.loop || cli.loop;
    sync_top_root(*this, origin, line);
  }
  for (const auto& mount : cli.mounts) {
    const std::string& name = mount.first;  // a plain name: clang 14 captures no bindings
    PathConfig p;
    p.name = name;
    p.launch = strip_parentheses(mount.second);
    p.origin = kCommandLine;
    auto it = std::find_if(paths.begin(), paths.end(),
                           [&](const PathConfig& q) { return q.name == name; });
    if (it != paths.end())
      *it = std::move(p);  // the command line wins
    else
      paths.push_back(std::move(p));
  }
  for (size_t i = 0; i < cli.proxies.size(); ++i) {
    PathConfig p;
    // live555ProxyServer's names: proxyStream for one URL; proxyStream-1 …
    // proxyStream-N, counted from 1, for several; -e changes the stem.
    std::string stem = "/" + cli.proxy_prefix.value_or("proxyStream");
    p.name = cli.proxies.size() == 1 ? stem : stem + "-" + std::to_string(i + 1);
    p.proxy = cli.proxies[i];
    p.origin = kCommandLine;
    auto it = std::find_if(paths.begin(), paths.end(),
                           [&](const PathConfig& q) { return q.name == p.name; });
    if (it != paths.end())
      *it = std::move(p);
    else
      paths.push_back(std::move(p));
  }
  for (auto& p : paths) {
    if (!p.is_proxy())
      continue;
    if (cli.backend_transport)
      p.backend_transport = *cli.backend_transport;
    if (cli.backend_http_port)
      p.backend_http_port = *cli.backend_http_port;
    if (cli.backend_timeout)
      p.timeout = *cli.backend_timeout;
    if (cli.backend_credentials) {
      p.backend_user = cli.backend_credentials->first;
      p.backend_password = cli.backend_credentials->second;
    }
  }
  if (cli.accept_register)
    server.accept_register = true;
  if (cli.users_file)
    server.users_file = *cli.users_file;
  if (cli.viewer_credentials) {
    server.viewer_user = cli.viewer_credentials->first;
    server.viewer_password = cli.viewer_credentials->second;
  }
  if (cli.record_dir)
    server.record_dir = *cli.record_dir;
  if (cli.register_credentials) {
    server.register_user = cli.register_credentials->first;
    server.register_password = cli.register_credentials->second;
  }
  for (const auto& pattern : cli.publish) {
    PathConfig p;
    p.name = pattern;
    p.publish = true;
    p.origin = kCommandLine;
    auto it = std::find_if(paths.begin(), paths.end(),
                           [&](const PathConfig& q) { return q.name == pattern; });
    if (it != paths.end())
      *it = std::move(p);
    else
      paths.push_back(std::move(p));
  }
}

void Config::validate() const {
  std::vector<ConfigIssue> issues;
  std::map<std::string, const PathConfig*> seen;
  for (const auto& p : paths) {
    std::string why;
    std::string group = "path " + p.name;
    if (!(p.name == "/" && p.is_root()) && !check_path_name(p.name, why, p.publish || p.is_proxy()))
      issues.push_back({p.origin, p.line, group, "", why});
    int sources = (p.launch.empty() ? 0 : 1) + (p.is_root() ? 1 : 0) + (p.publish ? 1 : 0) +
                  (p.is_proxy() ? 1 : 0);
    if (sources == 0)
      issues.push_back({p.origin, p.line, group, "launch", "empty launch line"});
    if (sources > 1)
      issues.push_back({p.origin, p.line, group, "",
                        "a path has exactly one source (launch=, root=, publish=true or proxy=), "
                        "not several"});
    if (std::string why_url; p.is_proxy() && !check_rtsp_url(p.proxy, why_url))
      issues.push_back({p.origin, p.line, group, "proxy", why_url});
    if (p.loop && !p.is_root())
      issues.push_back({p.origin, p.line, group, "loop", "loop needs a root (media files)"});
    if (p.record.value_or(false) && server.record_dir.empty())
      issues.push_back({p.origin, p.line, group, "record",
                        "record=true needs a directory: [server] record-dir= or --record-dir"});
    if (p.record.value_or(false) && p.is_root())
      issues.push_back({p.origin, p.line, group, "record",
                        "media files (root=) are not recorded; they are files already"});
    auto [it, fresh] = seen.emplace(p.name, &p);
    if (!fresh)
      issues.push_back({p.origin, p.line, group, "",
                        "duplicate path (also defined in " + it->second->origin + ")"});
    if (p.multicast.min_port > p.multicast.max_port)
      issues.push_back({p.origin, p.line, group, "multicast-port-range", "empty port range"});
    check_path_tls(p, server, group, issues);
  }
  check_server_tls(server, issues);
  // The API listens on 127.0.0.1: the same port as RTSP on 0.0.0.0 or
  // 127.0.0.1 could never bind.
  if (server.http_port != 0 && server.http_port == server.port)
    issues.push_back({kCommandLine, 0, "server", "http-port",
                      "the HTTP API needs a port of its own (" + std::to_string(server.port) +
                          " is the RTSP port)"});
  if (server.loop && server.root.empty())
    issues.push_back({kCommandLine, 0, "server", "--loop", "--loop needs --root DIR"});
  // Anyone who can reach the API could change paths: off the machine
  // itself only with users to ask.
  if (server.http_port != 0 && server.users_file.empty() && server.viewer_user.empty() &&
      server.http_address != "127.0.0.1" && server.http_address != "::1")
    issues.push_back({kCommandLine, 0, "server", "http-address",
                      "the HTTP API listens on " + server.http_address +
                          " only with users (users= or --users FILE); without them it stays "
                          "on 127.0.0.1"});
  if (!issues.empty())
    throw ConfigError(std::move(issues));
}

const PathConfig* Config::find_path(const std::string& name) const {
  for (const auto& p : paths)
    if (p.name == name)
      return &p;
  return nullptr;
}

Config Config::load(const CliOptions& cli, std::vector<ConfigIssue>* warnings) {
  Config cfg = cli.config_file ? from_file(*cli.config_file) : Config();
  cfg.apply(cli);
  cfg.validate();
  if (!cfg.server.users_file.empty())
    auth::UserDb::load(cfg.server.users_file);  // a bad users file stops the start here too
  auto w = cfg.check_launch_lines();
  if (warnings)
    *warnings = std::move(w);
  return cfg;
}

}  // namespace gms
