#include "config/path_keys.h"

#include <glib.h>

#include "config/tls_files.h"
#include "config/value_parsers.h"
#include "gms/ref.h"

namespace gms {
namespace {

using Scope = PathKeyScope;

const PathConfig& defaults() {
  static const PathConfig d;
  return d;
}

std::string yes(bool b) { return b ? "true" : "false"; }

template <typename T>
PathKey flag(const char* name, T PathConfig::*m, Scope scope = Scope::kAny) {
  return {name, scope,
          [m](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            return parse_bool(v, p.*m, why);
          },
          [m](const PathConfig& p) -> std::optional<std::string> {
            if (p.*m == defaults().*m)
              return std::nullopt;
            return yes(p.*m);
          }};
}

template <typename T>
PathKey number(const char* name, T PathConfig::*m, uint64_t min, uint64_t max,
               Scope scope = Scope::kAny) {
  return {name, scope,
          [m, min, max](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            uint64_t n = 0;
            bool ok = parse_uint(v, min, max, n, why);
            p.*m = static_cast<T>(n);
            return ok;
          },
          [m](const PathConfig& p) -> std::optional<std::string> {
            if (p.*m == defaults().*m)
              return std::nullopt;
            return std::to_string(uint64_t(p.*m));
          }};
}

// A text value, checked by `check` (null: any text).
PathKey text(const char* name, std::string PathConfig::*m, Scope scope,
             bool (*check)(const std::string&, std::string&)) {
  return {name, scope,
          [m, check](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            p.*m = v;
            return check ? check(v, why) : true;
          },
          [m](const PathConfig& p) -> std::optional<std::string> {
            if (p.*m == defaults().*m)
              return std::nullopt;
            return p.*m;
          }};
}

std::optional<std::string> text_of(const std::string& v, const std::string& def) {
  if (v == def)
    return std::nullopt;
  return v;
}

bool check_launch(const std::string& v, const std::string&, PathConfig& p, std::string& why) {
  p.launch = strip_parentheses(v);
  if (!p.launch.empty())
    return true;
  why = "empty launch line";
  return false;
}

bool check_anonymous(const std::string& v, std::string& why) {
  GStrvPtr items(g_strsplit(v.c_str(), ",", -1));
  for (gchar** it = items.get(); *it; ++it) {
    std::string r = g_strstrip(*it);
    if (r != "read" && r != "publish" && r != "none") {
      why = "'" + r + "': use read, publish, read,publish or none";
      return false;
    }
  }
  return true;
}

bool check_backend_transport(const std::string& v, std::string& why) {
  if (v == "auto" || v == "udp" || v == "tcp" || v == "http")
    return true;
  why = "'" + v + "' is not a back-end transport (use auto, udp, tcp or http)";
  return false;
}

bool check_record_format(const std::string& v, std::string& why) {
  if (v == "mp4" || v == "mkv" || v == "mpegts")
    return true;
  why = "'" + v + "' is not a recording format (use mp4, mkv or mpegts)";
  return false;
}

std::string protocols_text(unsigned flags) {
  std::string out;
  auto add = [&](unsigned f, const char* name) {
    if (flags & f)
      out += std::string(out.empty() ? "" : ",") + name;
  };
  add(kProtoUdp, "udp");
  add(kProtoUdpMcast, "udp-mcast");
  add(kProtoTcp, "tcp");
  return out;  // empty: the reader says no protocol was given
}

PathKey latency() {
  return {"latency", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            uint64_t n = 0;
            bool ok = parse_uint(v, 0, 60000, n, why);
            p.latency_ms = static_cast<unsigned>(n);
            return ok;
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            if (!p.latency_ms)
              return std::nullopt;
            return std::to_string(*p.latency_ms);
          }};
}

PathKey protocols() {
  return {"protocols", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            return parse_protocols(v, p.protocols, why);
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            if (p.protocols == defaults().protocols)
              return std::nullopt;
            return protocols_text(p.protocols);
          }};
}

PathKey multicast_addresses() {
  return {"multicast-address-range", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            return parse_ipv4_range(v, p.multicast.min_address, p.multicast.max_address, why);
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            const MulticastRange& d = defaults().multicast;
            if (p.multicast.min_address == d.min_address && p.multicast.max_address == d.max_address)
              return std::nullopt;
            return p.multicast.min_address + "-" + p.multicast.max_address;
          }};
}

PathKey multicast_ports() {
  return {"multicast-port-range", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            return parse_port_range(v, p.multicast.min_port, p.multicast.max_port, why);
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            const MulticastRange& d = defaults().multicast;
            if (p.multicast.min_port == d.min_port && p.multicast.max_port == d.max_port)
              return std::nullopt;
            return std::to_string(p.multicast.min_port) + "-" + std::to_string(p.multicast.max_port);
          }};
}

PathKey multicast_ttl() {
  return {"multicast-ttl", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            uint64_t n = 0;
            bool ok = parse_uint(v, 1, 255, n, why);
            p.multicast.ttl = static_cast<uint8_t>(n);
            return ok;
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            if (p.multicast.ttl == defaults().multicast.ttl)
              return std::nullopt;
            return std::to_string(unsigned(p.multicast.ttl));
          }};
}

PathKey record() {
  return {"record", Scope::kAny,
          [](const std::string& v, const std::string&, PathConfig& p, std::string& why) {
            bool b = false;
            bool ok = parse_bool(v, b, why);
            p.record = b;
            return ok;
          },
          [](const PathConfig& p) -> std::optional<std::string> {
            if (!p.record)
              return std::nullopt;
            return yes(*p.record);
          }};
}

// Relative file and directory names are read against the file's directory.
PathKey root() {
  return {"root", Scope::kAny,
          [](const std::string& v, const std::string& base, PathConfig& p, std::string& why) {
            return resolve_root_dir(v, base, p.root, why);
          },
          [](const PathConfig& p) { return text_of(p.root, defaults().root); }};
}

PathKey backend_tls_ca() {
  return {"backend-tls-ca", Scope::kProxy,
          [](const std::string& v, const std::string& base, PathConfig& p, std::string&) {
            p.backend_tls_ca = absolute_file(v, base);
            return true;
          },
          [](const PathConfig& p) { return text_of(p.backend_tls_ca, defaults().backend_tls_ca); }};
}

std::vector<PathKey> make_table() {
  using P = PathConfig;
  return {
      {"launch", Scope::kAny, check_launch,
       [](const PathConfig& p) { return text_of(p.launch, defaults().launch); }},
      flag("shared", &P::shared),
      latency(),
      protocols(),
      multicast_addresses(),
      multicast_ports(),
      multicast_ttl(),
      flag("publish", &P::publish),
      flag("override", &P::override_publisher, Scope::kPublish),
      flag("keep-viewers", &P::keep_viewers, Scope::kPublish),
      number("wait-publisher", &P::wait_publisher, 0, 600, Scope::kPublish),
      number("publisher-timeout", &P::publisher_timeout, 1, 3600, Scope::kPublish),
      flag("gop-cache", &P::gop_cache, Scope::kPublish),
      number("max-viewers", &P::max_viewers, 0, 1000000),
      text("proxy", &P::proxy, Scope::kAny, check_rtsp_url),
      text("backend-transport", &P::backend_transport, Scope::kProxy, check_backend_transport),
      number("backend-http-port", &P::backend_http_port, 1, 65535, Scope::kProxy),
      text("backend-user", &P::backend_user, Scope::kProxy, nullptr),
      text("backend-password", &P::backend_password, Scope::kProxy, nullptr),
      flag("on-demand", &P::on_demand, Scope::kProxy),
      // Proxy and launch paths; the reader says so itself.
      number("linger", &P::linger, 0, 86400),
      number("timeout", &P::timeout, 1, 3600, Scope::kProxy),
      number("backoff-max", &P::backoff_max, 1, 86400, Scope::kProxy),
      number("keepalive", &P::keepalive, 0, 3600, Scope::kProxy),
      root(),
      flag("loop", &P::loop),
      record(),
      text("record-format", &P::record_format, Scope::kAny, check_record_format),
      number("segment-duration", &P::segment_duration, 1, 86400),
      number("delete-after", &P::delete_after, 0, 100u * 365 * 86400),
      number("max-bytes", &P::max_bytes, 0, UINT64_MAX),
      flag("always-on", &P::always_on, Scope::kLaunch),
      number("start-timeout", &P::start_timeout, 1, 3600, Scope::kLaunch),
      backend_tls_ca(),
      flag("backend-tls-verify", &P::backend_tls_verify, Scope::kProxy),
      flag("require-tls", &P::require_tls),
      flag("srtp", &P::srtp),
      text("anonymous", &P::anonymous, Scope::kAny, check_anonymous),
  };
}

}  // namespace

const std::vector<PathKey>& path_keys() {
  static const std::vector<PathKey> table = make_table();
  return table;
}

std::vector<std::string> path_key_names(std::optional<PathKeyScope> scope) {
  std::vector<std::string> out;
  for (const auto& k : path_keys())
    if (!scope || k.scope == *scope)
      out.push_back(k.name);
  return out;
}

}  // namespace gms
