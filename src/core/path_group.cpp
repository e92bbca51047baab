#include "core/path_group.h"

#include <glib.h>

#include "gms/ref.h"

namespace gms {
namespace {

std::string yes(bool b) { return b ? "true" : "false"; }

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

}  // namespace

// Only the keys whose value differs from the default, as a file would
// state them: the reader refuses some keys on paths of another kind.
std::string path_group_text(const PathConfig& p) {
  auto kf = UniquePtr<GKeyFile, g_key_file_unref>(g_key_file_new());
  const std::string group = "path " + p.name;
  const PathConfig d;
  auto set = [&](const char* key, const std::string& value) {
    g_key_file_set_string(kf.get(), group.c_str(), key, value.c_str());
  };
  auto text = [&](const char* key, const std::string& v, const std::string& def) {
    if (v != def)
      set(key, v);
  };
  auto flag = [&](const char* key, bool v, bool def) {
    if (v != def)
      set(key, yes(v));
  };
  auto num = [&](const char* key, uint64_t v, uint64_t def) {
    if (v != def)
      set(key, std::to_string(v));
  };
  text("launch", p.launch, d.launch);
  text("proxy", p.proxy, d.proxy);
  text("root", p.root, d.root);
  flag("publish", p.publish, d.publish);
  flag("shared", p.shared, d.shared);
  if (p.latency_ms)
    set("latency", std::to_string(*p.latency_ms));
  if (p.protocols != d.protocols)
    set("protocols", protocols_text(p.protocols));
  if (p.multicast.min_address != d.multicast.min_address ||
      p.multicast.max_address != d.multicast.max_address)
    set("multicast-address-range", p.multicast.min_address + "-" + p.multicast.max_address);
  if (p.multicast.min_port != d.multicast.min_port || p.multicast.max_port != d.multicast.max_port)
    set("multicast-port-range",
        std::to_string(p.multicast.min_port) + "-" + std::to_string(p.multicast.max_port));
  num("multicast-ttl", p.multicast.ttl, d.multicast.ttl);
  flag("override", p.override_publisher, d.override_publisher);
  flag("keep-viewers", p.keep_viewers, d.keep_viewers);
  flag("gop-cache", p.gop_cache, d.gop_cache);
  num("wait-publisher", p.wait_publisher, d.wait_publisher);
  num("publisher-timeout", p.publisher_timeout, d.publisher_timeout);
  num("max-viewers", p.max_viewers, d.max_viewers);
  text("backend-transport", p.backend_transport, d.backend_transport);
  num("backend-http-port", p.backend_http_port, d.backend_http_port);
  text("backend-user", p.backend_user, d.backend_user);
  text("backend-password", p.backend_password, d.backend_password);
  flag("on-demand", p.on_demand, d.on_demand);
  num("linger", p.linger, d.linger);
  flag("always-on", p.always_on, d.always_on);
  num("start-timeout", p.start_timeout, d.start_timeout);
  num("timeout", p.timeout, d.timeout);
  if (p.record)
    set("record", yes(*p.record));
  text("record-format", p.record_format, d.record_format);
  num("segment-duration", p.segment_duration, d.segment_duration);
  num("delete-after", p.delete_after, d.delete_after);
  num("max-bytes", p.max_bytes, d.max_bytes);
  num("keepalive", p.keepalive, d.keepalive);
  num("backoff-max", p.backoff_max, d.backoff_max);
  flag("loop", p.loop, d.loop);
  text("anonymous", p.anonymous, d.anonymous);
  text("backend-tls-ca", p.backend_tls_ca, d.backend_tls_ca);
  flag("backend-tls-verify", p.backend_tls_verify, d.backend_tls_verify);
  flag("require-tls", p.require_tls, d.require_tls);
  flag("srtp", p.srtp, d.srtp);
  if (!g_key_file_has_group(kf.get(), group.c_str()))
    return "[" + group + "]\n";
  GCharPtr out(g_key_file_to_data(kf.get(), nullptr, nullptr));
  return out ? out.get() : "";
}

void check_as_file_group(const PathConfig& p, const std::string& origin) {
  Config::from_data(path_group_text(p), origin);
}

}  // namespace gms
