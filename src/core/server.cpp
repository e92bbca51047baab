// gms::Server: the GstRTSPServer with server-grade settings, one factory per
// configured path, reload by diff.
#include <gst-mediaserver/server.h>

#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>

#include "auth/redact.h"
#include "auth/register_auth.h"
#include "auth/rtsp_auth.h"
#include "auth/server_auth.h"
#include "core/client_guard.h"
#include "core/client_signals.h"
#include "core/coalesced_call.h"
#include "core/event_hub.h"
#include "core/path_group.h"
#include "core/front_door.h"
#include "core/gone_path_clients.h"
#include "core/reader_watch.h"
#include "core/request_check.h"
#include "core/request_progress.h"
#include "core/light_tls_database.h"
#include "core/log.h"
#include "core/relay_channel.h"
#include "core/runtime_paths.h"
#include "core/session_pool.h"
#include "core/tls_client.h"
#include "core/tunnel_idle.h"
#include "core/abandoned_connection.h"
#include "core/capped_thread_pool.h"
#include "core/pipeline_cap.h"
#include "config/tls_files.h"
#include "config/value_parsers.h"
#include "gms/invoke.h"
#include "gms/ref.h"
#include "gms_build_paths.h"
#include "gms/signal.h"
#include "http/http_api.h"
#include "http/server_backend.h"
#include "mounts/file_mount.h"
#include "mounts/media_setup.h"
#include "record/retention.h"
#include "mounts/publish_mount.h"
#include "path/live_mount.h"
#include "path/path.h"
#include "path/proxy_patterns.h"
#include "path/publisher_source.h"
#include "proxy/register.h"
#include "session/dropped_viewers.h"
#include "session/session_registry.h"

GST_DEBUG_CATEGORY_STATIC(gms_server_debug);
#define GST_CAT_DEFAULT gms_server_debug

namespace gms {
namespace {

std::string range_key(const MulticastRange& m) {
  return m.min_address + "-" + m.max_address + ":" + std::to_string(m.min_port) + "-" +
         std::to_string(m.max_port) + "/" + std::to_string(m.ttl);
}

// Read on the control context only, where the front doors hand clients over.
struct ClientHooks {
  std::shared_ptr<ClientPolicy> policy;
  mounts::PublishContextPtr publish;
  std::shared_ptr<session::Registry> registry;
  Ref<GMainContext> control;  // set by attach()
  std::chrono::milliseconds first_request{10000};
  ReaderNotify readers;  // the readers' joins and leaves
};

// Per connection: what is not a signal handler (those every client runs
// are added once, add_client_signals()).
void on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer data) noexcept {
  auto* hooks = static_cast<ClientHooks*>(data);
  if (hooks->control) {
    close_idle_tunnel_half(client, hooks->control.get(), hooks->first_request);
    watch_request_progress(client, hooks->control.get(), hooks->first_request);
    watch_abandoned_connection(client, hooks->control.get(), hooks->policy);
  }
  guard_client(client, hooks->policy);
  hooks->registry->watch(client);
  if (hooks->control)
    start_client_tls(client, hooks->first_request, hooks->control.get());
}

// The handlers every client runs, in the order a refusal is decided in:
// malformed requests, then the connection's own guards, then the paths'.
void add_client_signals(GstRTSPServer* server, const ClientHooks& hooks) {
  ClientSignals& signals = client_signals(server);
  add_request_checks(signals);
  add_abandoned_connection_hooks(signals);
  add_client_guards(signals, hooks.policy);
  mounts::add_publish_hooks(signals, hooks.publish);
  hooks.registry->add_hooks(signals);
  add_tls_checks(signals);
  add_reader_watch(signals, hooks.publish->traffic, hooks.readers);
}

// A source on `context` that calls `fn(*obj)` every `seconds`, held by the
// returned holder; `obj` must outlive it.
template <typename T, typename F>
SourceHolder every_seconds(GMainContext* context, guint seconds, T* obj, F) {
  static_assert(std::is_empty_v<F>, "fn holds nothing: it is called without its object");
  GSource* source = g_timeout_source_new_seconds(seconds);
  g_source_set_callback(
      source,
      +[](gpointer data) noexcept -> gboolean {
        F{}(*static_cast<T*>(data));
        return G_SOURCE_CONTINUE;
      },
      obj, nullptr);
  g_source_attach(source, context);
  return SourceHolder(source);
}

// The server's pipelines make the plugin's elements by name, from the
// registry: the installed plugin, or one on GST_PLUGIN_PATH. A program run
// from the build tree finds the plugin built beside it.
bool has_elements() {
  GstElementFactory* f = gst_element_factory_find("msrelaysink");
  if (f)
    gst_object_unref(f);
  return f != nullptr;
}

void find_elements_once() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (has_elements())
      return;
#ifdef GMS_PLUGIN_BUILD_DIR
    gst_registry_scan_path(gst_registry_get(), GMS_PLUGIN_BUILD_DIR);
    if (has_elements())
      return;
#endif
    GMS_LOG_ERROR("the GStreamer plugin \"mediaserver\" (msrelaysink, msrelaysrc, msrecorder) "
                  "is not installed: live paths and recording cannot work");
  });
}

GstRTSPFilterResult close_client(GstRTSPServer*, GstRTSPClient*, gpointer) noexcept {
  return GST_RTSP_FILTER_REMOVE;
}

}  // namespace

struct Server::Impl {
  Config config;
  Ref<GstRTSPServer> server;
  Ref<GstRTSPMountPoints> mounts;
  Ref<GstRTSPSessionPool> sessions;
  Ref<GMainContext> context;
  std::shared_ptr<ClientPolicy> policy = std::make_shared<ClientPolicy>();
  // Viewers' pipelines prepared at once (max-pipelines), asked by the
  // server's thread pool before each is prepared.
  std::shared_ptr<PipelineCap> pipelines = std::make_shared<PipelineCap>(0);
  mounts::PublishContextPtr publish = std::make_shared<mounts::PublishContext>();
  std::map<std::string, Ref<GstRTSPAddressPool>> address_pools;
  std::unique_ptr<FrontDoor> front_door;
  std::unique_ptr<FrontDoor> tls_door;     // RTSPS (tls-cert)
  std::unique_ptr<FrontDoor> tunnel_door;  // RTSP over HTTP (http-tunnel-port)
  Ref<GTlsCertificate> certificate;
  ClientHooks* hooks = nullptr;            // owned by the client-connected handler
  std::unique_ptr<proxy::Registrar> registrar;
  // The live paths by served name: configured ones, and the paths of
  // publishers under a pattern ("/live/cam1"), kept after their publisher
  // left so that the API still shows what their recording did.
  std::map<std::string, std::unique_ptr<Path>> paths;
  // Runs update_recordings() on the control context when a source or a
  // publisher changes (set by attach()); reset first when the server goes,
  // so that late events find nothing.
  std::shared_ptr<CoalescedCall> updater;
  std::unique_ptr<http::HttpApi> http;
  std::unique_ptr<record::RetentionSweeper> retention;  // reads config and recorders
  // Paths that pattern proxies make on demand ("/live/*" → /live/cam1).
  std::shared_ptr<ProxyPatterns> proxy_patterns = std::make_shared<ProxyPatterns>();
  // SIGTERM with drain-timeout: no new sessions, the health check fails.
  bool draining = false;
  std::unique_ptr<auth::ServerAuth> auth;
  // Every RTSP session with its client, path and figures (the sessions API
  // and the session log lines).
  std::shared_ptr<session::Registry> registry;
  SourceHolder session_refresh;  // keeps the figures of the end-of-session lines fresh
  std::shared_ptr<session::DroppedViewers> dropped;  // ends the sessions of dropped TCP viewers
  SourceHolder dropped_watch;
  RuntimePaths runtime;          // paths changed over the API
  // The application's subscriptions (Server::subscribe); shared with the
  // session registry's hook, which may run after this is gone.
  std::shared_ptr<EventHub> events = std::make_shared<EventHub>();
  // Paths added, changed (a config) or removed (nullopt) in code: laid on
  // every reload like the HTTP API's overlay, after it.
  std::map<std::string, std::optional<PathConfig>> code_paths;

  // A live path's events that the application hears: its back end's
  // (proxy paths) and its recording's.
  // `backend`: a proxy path's back-end URL.
  void wire(Path& path, const std::string& backend = {}) {
    std::weak_ptr<EventHub> hub = events;
    const bool proxy = std::string_view(path.source().kind()) == "proxy";
    const std::string url = auth::redact(backend);
    path.events().subscribe([hub, proxy, url](const PathEvent& e) {
      auto h = hub.lock();
      if (!h)
        return;
      ServerEvent out;
      out.path = e.path;
      if (e.kind == PathEvent::Kind::kSegmentWritten) {
        out.kind = ServerEvent::Kind::kSegmentWritten;
        out.detail = e.segment;
      } else if (proxy && (e.kind == PathEvent::Kind::kSourceReady ||
                           e.kind == PathEvent::Kind::kSourceLost)) {
        out.kind = e.kind == PathEvent::Kind::kSourceReady ? ServerEvent::Kind::kBackendUp
                                                           : ServerEvent::Kind::kBackendDown;
        out.detail = url;
      } else {
        return;
      }
      h->post(std::move(out));
    });
  }

  void post_path_event(ServerEvent::Kind kind, const std::string& name) {
    ServerEvent e;
    e.kind = kind;
    e.path = name;
    events->post(std::move(e));
  }

  bool records(const PathConfig& p) const {
    return !p.is_root() && p.record.value_or(!config.server.record_dir.empty());
  }

  // Should `served` (p's name, or a publisher's path under p's pattern) be
  // recorded now: the API's start/stop, else the configuration.
  bool wants_record(const PathConfig& p, const std::string& served) const {
    if (config.server.record_dir.empty() || p.is_root())
      return false;
    auto it = paths.find(served);
    if (it != paths.end() && it->second->record_override)
      return *it->second->record_override;
    return records(p);
  }

  record::RecordSettings record_settings(const PathConfig& p) const {
    record::RecordSettings s;
    s.dir = config.server.record_dir;
    s.format = p.record_format;
    s.segment_seconds = p.segment_duration;
    s.delete_after = p.delete_after;
    s.max_bytes = p.max_bytes;
    return s;
  }

  // From any thread: a source or a publisher changed; the recorders follow
  // on the control context (several events, one update).
  void request_update() {
    if (updater)
      updater->ask();
  }

  // The path of a publisher under a pattern, made at its first event.
  Path& publisher_path(const std::string& served) {
    auto& path = paths[served];
    if (!path) {
      path = std::make_unique<Path>(
          served, std::make_shared<PublisherSource>(served, publish->registry, publish->sinks),
          publish->traffic->of(served));
      wire(*path);
    }
    return *path;
  }

  // Control context: every recorder in line with its path's source and
  // wishes. Runs on the sources' events, the publishers' and the API's.
  void update_recordings() {
    for (const auto& a : publish->registry->active())
      if (const PathConfig* p = config_of(a.path); p && p->is_pattern() && p->publish)
        publisher_path(a.path);
    adopt_pattern_proxies();
    for (auto it = paths.begin(); it != paths.end();) {
      auto& [name, path] = *it;
      const PathConfig* p = config_of(name);
      bool wanted = p && wants_record(*p, name);
      path->update_recording(wanted, p ? record_settings(*p) : record::RecordSettings{},
                             context.get());
      bool forget;
      if (proxy_patterns->owns(name)) {
        forget = retire_pattern_proxy(name, p);
        if (forget) {
          publish->traffic->forget(name);
          destroy_later(std::move(path));
          it = paths.erase(it);
          continue;
        }
      } else {
        // A pattern's publisher that left, never recorded and was never
        // asked to: nothing to show, it goes (publisher names can be many).
        forget = (!p || p->is_pattern()) && !path->source().live() && !path->status() &&
                 !path->record_override;
      }
      if (forget)
        publish->traffic->forget(name);
      it = forget ? paths.erase(it) : std::next(it);
    }
  }

  // Control context: the paths pattern proxies made since the last call
  // become the server's.
  void adopt_pattern_proxies() {
    for (auto& made : proxy_patterns->take_new()) {
      const std::string name = made->config().name;
      auto& path = paths[name];
      if (path)
        destroy_later(std::move(path));  // the one made before, which went meanwhile
      made->on_change([this] { request_update(); });
      path = std::make_unique<Path>(name, made, publish->traffic->of(name));
      wire(*path, made->config().proxy);
    }
  }

  // A source's event may be what runs update_recordings() (at once, on the
  // control context): its path is stopped now but destroyed only after the
  // event's handler has returned.
  void destroy_later(std::unique_ptr<Path> path) {
    path->stop();
    GSource* idle = g_idle_source_new();
    g_source_set_callback(
        idle, [](gpointer) noexcept -> gboolean { return G_SOURCE_REMOVE; }, path.release(),
        [](gpointer p) { delete static_cast<Path*>(p); });
    g_source_attach(idle, context.get());
    g_source_unref(idle);
  }

  // A pattern proxy's path goes when nothing uses it (or its pattern went):
  // unmounted, so that the next viewer makes it afresh.
  bool retire_pattern_proxy(const std::string& name, const PathConfig* p) {
    if (!p || !p->is_pattern() || !p->is_proxy()) {
      proxy_patterns->forget(name);
      return true;
    }
    if (!mounts::retire_pattern_mount(mounts.get(), p->name, name,
                                      [&] { return proxy_patterns->retire_if_idle(name); }))
      return false;
    GMS_LOG_INFO("path %s: unused; removed", name.c_str());
    return true;
  }
  // --- What the HTTP API reads and does (control context) ---

  // The configured path that serves `served`: itself, or the publish
  // pattern it falls under.
  const PathConfig* config_of(const std::string& served) const {
    if (const PathConfig* p = config.find_path(served))
      return p;
    for (const auto& p : config.paths)
      if (p.is_pattern() && served.size() > p.prefix().size() &&
          served.rfind(p.prefix(), 0) == 0)
        return &p;
    return nullptr;
  }

  std::optional<std::string> recording_state(const PathConfig& p, const std::string& served) const {
    auto it = paths.find(served);
    if (it != paths.end() && it->second->status())
      return record::state_name(it->second->status()->state);
    if (wants_record(p, served))
      return record::state_name(record::RecordingStatus::State::kStopped);
    return std::nullopt;
  }

  // A path's figures, from its Path when it has one (live paths), else
  // from the counters its readers reported to (files, per-viewer lines).
  void fill_figures(PathInfo& e, const std::string& served) const {
    const Path* path = nullptr;
    if (auto it = paths.find(served); it != paths.end())
      path = it->second.get();
    const TrafficFigures f = path ? path->traffic().figures() : publish->traffic->of(served)->figures();
    e.measured = true;
    PathFigures& o = e.figures;
    o.readers_udp = f.readers[size_t(ReaderTransport::kUdp)];
    o.readers_multicast = f.readers[size_t(ReaderTransport::kUdpMulticast)];
    o.readers_tcp = f.readers[size_t(ReaderTransport::kTcp)];
    o.bytes_in = f.bytes_in;
    o.bytes_out = f.bytes_out;
    o.bitrate_bps = f.bitrate_bps;
    o.frames = f.frames;
    o.key_frames = f.key_frames;
    o.gaps = f.gaps;
    o.lost = f.lost;
    o.last_activity_us = f.last_activity_us;
    e.viewers = f.readers_total();
    if (!path)
      return;
    e.live = path->source().live();
    e.state = state_name(path->state());
    o.reconnects = path->source().reconnects();
    if (std::string_view(path->source().kind()) == "publish")
      e.publisher_count = path->source().publishers();
  }

  std::vector<PathInfo> path_entries() const {
    auto publishers = publish->registry->active();
    std::vector<PathInfo> out;
    for (const auto& p : config.paths) {
      PathInfo e;
      e.name = p.name;
      e.kind = kind_of(p);
      if (p.is_pattern() && p.is_proxy()) {
        for (const auto& [name, path] : paths) {
          if (name.size() <= p.prefix().size() || name.rfind(p.prefix(), 0) != 0 ||
              !proxy_patterns->owns(name))
            continue;
          PathInfo sub;
          sub.name = name;
          sub.kind = kind_of(p);
          fill_figures(sub, name);
          sub.recording = recording_state(p, name);
          e.publishers.push_back(std::move(sub));
        }
        e.live = !e.publishers.empty();
      } else if (p.is_pattern()) {
        for (const auto& a : publishers) {
          if (a.path.rfind(p.prefix(), 0) != 0)
            continue;
          PathInfo sub;
          sub.name = a.path;
          sub.kind = kind_of(p);
          fill_figures(sub, a.path);
          sub.live = true;
          sub.recording = recording_state(p, a.path);
          e.publishers.push_back(std::move(sub));
        }
        e.live = !e.publishers.empty();
      } else {
        // A line built per viewer (shared=false) has no Path: whether it
        // delivers is not known here (no "live", no "state").
        fill_figures(e, p.name);
        if (!p.is_root())
          e.recording = recording_state(p, p.name);
        else
          e.viewers.reset();  // its readers are counted, its viewers were not shown before
      }
      out.push_back(std::move(e));
    }
    return out;
  }

  RecordingInfo recording_entry(const std::string& served) const {
    RecordingInfo r;
    r.path = served;
    r.directory = config.server.record_dir + served;  // as PathRecorder::directory()
    if (auto it = paths.find(served); it != paths.end() && it->second->status())
      r.status = *it->second->status();
    return r;
  }

  // Every path that records or did: configured to, started by the API, or
  // a publisher's path that was recorded.
  std::vector<RecordingInfo> recording_entries() const {
    std::set<std::string> served;
    for (const auto& p : config.paths)
      if (!p.is_pattern() && wants_record(p, p.name))
        served.insert(p.name);
    for (const auto& a : publish->registry->active())
      if (const PathConfig* p = config_of(a.path); p && wants_record(*p, a.path))
        served.insert(a.path);
    for (const auto& [name, path] : paths)
      if (path->status())
        served.insert(name);
    std::vector<RecordingInfo> out;
    for (const auto& name : served)
      out.push_back(recording_entry(name));
    return out;
  }

  ServerFigures counters() const {
    ServerFigures c;
    c.paths = config.paths.size();
    c.sessions = gst_rtsp_session_pool_get_n_sessions(sessions.get());
    c.publishers = publish->registry->publishers();
    c.connections = policy->clients.load();
    c.pipelines = pipelines->prepared();
    c.pipeline_refusals = pipelines->refusals();
    // The credential checks (RTSP, REGISTER, HTTP API) count their own.
    c.auth_failures = policy->counters.auth_failures() + auth::failure_count();
    for (size_t i = 0; i < ServerCounters::kRefusals; ++i) {
      auto r = ServerCounters::Refusal(i);
      c.refused.emplace_back(ServerCounters::reason(r), policy->counters.refusals(r));
    }
    return c;
  }

  std::vector<std::string> reload_to(const Config& config);

  RecordingResult set_recording(const std::string& served, bool start) {
    RecordingResult a;
    const PathConfig* p = config_of(served);
    auto refuse = [&](unsigned status, std::string why) {
      a.status = status;
      a.error = std::move(why);
      return a;
    };
    if (!p)
      return refuse(404, "no path " + served);
    if (p->is_root())
      return refuse(409, served + " serves media files, which are not recorded (they are files already)");
    if (config.server.record_dir.empty())
      return refuse(409, "nothing is recorded without a directory: set record-dir or --record-dir");
    Path* path = nullptr;
    if (auto it = paths.find(served); it != paths.end())
      path = it->second.get();
    else if (p->is_pattern())
      path = &publisher_path(served);
    // A launch line built per viewer (shared=false, or no pay0) has no relay
    // the recorder could read.
    if (!path)
      return refuse(409, served + " runs one pipeline per viewer (shared=false): it cannot be "
                         "recorded");
    if (auto why = path->source().unrecordable(); !why.empty())
      return refuse(409, served + ": " + why);
    path->record_override = start;
    update_recordings();
    a.state = recording_entry(served).status;
    return a;
  }

  Server* owner = nullptr;  // the public face, for the HTTP API

  void merge_code_paths(Config& cfg) const {
    for (const auto& [name, p] : code_paths) {
      std::erase_if(cfg.paths, [&](const PathConfig& q) { return q.name == name; });
      if (p)
        cfg.paths.push_back(*p);
    }
  }

  // add_path, change_path: checked as a file's group would be (the whole
  // configuration, then the launch line's dry run), then served.
  PathResult change_in_code(PathConfig p, unsigned ok_status) {
    PathResult r;
    r.name = p.name;
    if (p.origin.empty())
      p.origin = "application";
    Config next = config;
    std::erase_if(next.paths, [&](const PathConfig& q) { return q.name == p.name; });
    next.paths.push_back(p);
    try {
      check_as_file_group(p, p.origin);
      next.validate();
      Config one;
      one.server = next.server;
      one.paths.push_back(p);
      for (const auto& w : one.check_launch_lines())
        GMS_LOG_WARN("%s", w.to_string().c_str());
      code_paths[p.name] = p;
      reload_to(next);
    } catch (const ConfigError& e) {
      r.status = 400;
      r.key = e.issues().empty() ? "" : e.issues().front().key;
      r.reason = e.issues().empty() ? e.what() : e.issues().front().reason;
      return r;
    }
    r.status = ok_status;
    return r;
  }

  void start_http(uint16_t port) {
    http::ApiBackend b = http::backend_of(*owner);
    http = std::make_unique<http::HttpApi>(context.get(), std::move(b));
    http->listen(port, config.server.http_address, certificate.get());
    if (!config.server.health_address.empty())
      http->listen_health(config.server.health_address);
  }

  // GET /api/v1/paths/NAME: the entry (a configured path, or a publisher's
  // under a pattern) with its sessions.
  std::optional<PathInfo> path_detail(const std::string& name) const {
    std::optional<PathInfo> found;
    for (auto& e : path_entries()) {
      if (e.name == name)
        found = std::move(e);
      for (auto& sub : e.publishers)
        if (!found && sub.name == name)
          found = std::move(sub);
      if (found)
        break;
    }
    if (!found)
      return found;
    // Files and patterns: the sessions of every path below them.
    const PathConfig* p = config.find_path(name);
    std::string prefix = p && (p->is_root() || p->is_pattern()) ? p->prefix() : name;
    if (p && p->is_root() && prefix.back() != '/')
      prefix += "/";
    found->readers.emplace();
    for (auto& s : registry->list())
      if (s.path == name || (prefix != name && s.path.rfind(prefix, 0) == 0))
        found->readers->push_back(std::move(s));
    return found;
  }

  std::set<std::string> registered;  // paths added by REGISTER, not by the configuration

  // REGISTER: a back end asks to be proxied at `name`.
  std::string register_path(const std::string& name, const std::string& url, bool via_tcp) {
    if (config.find_path(name))
      return name + " is a configured path";
    if (registered.count(name))
      unregister_path(name);
    PathConfig p;
    p.name = name;
    p.proxy = url;
    p.backend_transport = via_tcp ? "tcp" : "udp";
    p.origin = "REGISTER";
    mount(p);
    registered.insert(name);
    return {};
  }

  void unregister_path(const std::string& name) {
    if (!registered.erase(name))
      return;
    gst_rtsp_mount_points_remove_factory(mounts.get(), name.c_str());
    unmount(name);
    drop_sessions({name});
    publish->traffic->forget(name);  // a back end's name may not come again
  }

  // The path's source stops and its recorder closes; what the recording
  // did goes with it (the path is gone).
  void unmount(const std::string& name) {
    auto it = paths.find(name);
    if (it == paths.end())
      return;
    it->second->stop();
    paths.erase(it);
  }
  std::shared_ptr<mounts::FileRoots> files;
  // Late reader events (queued for the control context) find it gone.
  std::shared_ptr<int> alive = std::make_shared<int>(0);

  void reader_event(const std::string& served, bool joined, ReaderTransport t) {
    auto it = paths.find(served);
    if (it == paths.end())
      return;
    PathEvent e;
    e.kind = joined ? PathEvent::Kind::kReaderJoined : PathEvent::Kind::kReaderLeft;
    e.path = served;
    e.transport = transport_name(t);
    it->second->events().emit(e);
  }
  SourceHolder session_cleanup;
  SourceHolder publisher_watchdog;
  uint16_t bound_port = 0;

  explicit Impl(const Config& cfg) : config(cfg) {
    const ServerConfig& s = cfg.server;
    log::set_verbosity(s.verbosity);
    server = Ref<GstRTSPServer>::adopt(new_rtsp_server());
    gst_rtsp_server_set_address(server.get(), s.address.c_str());
    gst_rtsp_server_set_service(server.get(), std::to_string(s.port).c_str());
    gst_rtsp_server_set_backlog(server.get(), static_cast<gint>(s.backlog));

    pipelines->set_max(s.max_pipelines);
    auto pool = Ref<GstRTSPThreadPool>::adopt(new_capped_thread_pool(pipelines));
    gst_rtsp_server_set_thread_pool(server.get(), pool.get());
    gst_rtsp_thread_pool_set_max_threads(pool.get(), static_cast<gint>(s.effective_threads()));

    sessions = Ref<GstRTSPSessionPool>::adopt(gms_session_pool_new());
    gst_rtsp_session_pool_set_max_sessions(sessions.get(), s.max_sessions);
    gst_rtsp_server_set_session_pool(server.get(), sessions.get());
    auth = std::make_unique<auth::ServerAuth>(server.get());
    auth->apply(cfg);  // throws ConfigError for an unreadable users file
    publish->sessions = sessions;
    publish->registry->set_max_publishers(s.max_publishers);
    publish->max_viewers = s.max_viewers;
    registry = std::make_shared<session::Registry>(sessions.get());
    // The user proved on the session's connection (none without users).
    registry->user_of = [](GstRTSPClient* client, GstRTSPContext*) -> std::optional<std::string> {
      std::string user = auth::user_of_client(client);
      return user.empty() ? std::nullopt : std::optional<std::string>(user);
    };
    registry->on_session = [hub = std::weak_ptr<EventHub>(events)](const session::Info& i,
                                                                    bool started) {
      auto h = hub.lock();
      if (!h)
        return;
      const bool publisher = i.role == "publisher";
      ServerEvent e;
      e.kind = publisher ? (started ? ServerEvent::Kind::kPublisherStarted
                                    : ServerEvent::Kind::kPublisherStopped)
                         : (started ? ServerEvent::Kind::kViewerJoined
                                    : ServerEvent::Kind::kViewerLeft);
      e.path = i.path;
      e.session = i.id;
      e.detail = i.transport + " " + i.remote;
      h->post(std::move(e));
    };
    log::set_format(s.log_format == "json" ? log::Format::kJson : log::Format::kText);

    policy->max_request_size = s.max_request_size;
    policy->session_timeout = s.session_timeout;
    // Readers' joins and leaves come from client threads and finalizers;
    // their events go out on the control context.
    ReaderNotify readers = [this, alive = std::weak_ptr<int>(alive)](
                               const std::string& path, bool joined, ReaderTransport t) {
      if (auto a = alive.lock())
        invoke_while_alive(context.get(), a, [this, path, joined, t] { reader_event(path, joined, t); });
    };
    hooks = new ClientHooks{policy, publish, registry, {}, std::chrono::seconds(s.request_timeout),
                            std::move(readers)};
    add_client_signals(server.get(), *hooks);
    g_signal_connect_data(server.get(), "client-connected", G_CALLBACK(on_client_connected),
                          hooks,
                          [](gpointer p, GClosure*) { delete static_cast<ClientHooks*>(p); },
                          GConnectFlags(0));

    // Publish factories made on demand for patterns ("/live/*") capture
    // only the shared publish context and the pool, never `this`.
    mounts = mounts::make_mount_points(
        [publish = publish, patterns = proxy_patterns,
         pools = std::make_shared<std::map<std::string, Ref<GstRTSPAddressPool>>>()](
            const PathConfig& p) {
          Ref<GstRTSPAddressPool> pool;
          if (p.protocols & kProtoUdpMcast) {
            auto& slot = (*pools)[range_key(p.multicast)];
            if (!slot)
              slot = mounts::make_address_pool(p.multicast);
            pool = slot;
          }
          if (p.is_proxy())
            return patterns->make(p, pool.get());
          return mounts::make_publish_factory(p, publish, pool.get());
        });
    gst_rtsp_server_set_mount_points(server.get(), mounts.get());
    files = std::make_shared<mounts::FileRoots>(mounts.get());
    policy->resolve = [files = files](const std::string& abspath, const std::string& query,
                                      bool setup) {
      return files->resolve(abspath, query, setup);
    };
    // Recordings play like files: rtsp://host/recordings/PATH/SEGMENT.mp4
    if (!cfg.server.record_dir.empty() && !cfg.find_path("/recordings")) {
      PathConfig r;
      r.name = "/recordings";
      r.root = cfg.server.record_dir;
      r.shared = false;
      r.origin = "record-dir";
      files->add(r, nullptr);
    }
    for (const auto& p : cfg.paths)
      mount(p);
    update_patterns();
  }

  void update_patterns() {
    std::vector<PathConfig> patterns;
    for (const auto& p : config.paths)
      if (p.is_pattern())
        patterns.push_back(p);
    mounts::set_publish_patterns(mounts.get(), std::move(patterns));
  }

  ~Impl() {
    alive.reset();
    retention.reset();
    http.reset();  // its handlers read everything below
    updater.reset();
    publish->registry->set_on_change(nullptr);
    front_door.reset();
    tls_door.reset();
    tunnel_door.reset();
    registrar.reset();
    for (auto& [name, path] : paths) {
      path->source().on_change(nullptr);
      path->stop();  // closes the open segments
    }
    session_cleanup.reset();
    session_refresh.reset();
    dropped_watch.reset();
    publisher_watchdog.reset();
    close_all();
  }

  // RTSPS and the extra RTSP-over-HTTP port: more front doors to the same
  // GstRTSPServer, so that paths, sessions and tunnels are shared.
  void open_extra_doors() {
    const ServerConfig& sc = config.server;
    if (!sc.tls_cert.empty()) {
      std::string why;
      certificate = load_certificate(sc.tls_cert, sc.tls_key, why);
      if (!certificate)
        throw ConfigError({{"server", 0, "server", "tls-cert", why}});
      use_light_default_tls_database();
      tls_door = std::make_unique<FrontDoor>(server.get(), context.get(), limits(), policy);
      tls_door->set_tls(certificate);
      tls_door->listen(sc.address, sc.tls_port, sc.backlog, "tls-port");
    }
    if (sc.http_tunnel_port != 0) {
      tunnel_door = std::make_unique<FrontDoor>(server.get(), context.get(), limits(), policy);
      tunnel_door->listen(sc.address, sc.http_tunnel_port, sc.backlog, "http-tunnel-port");
    }
  }

  FrontDoorLimits limits() const {
    FrontDoorLimits l;
    l.max_connections = config.server.max_connections;
    l.max_per_address = config.server.max_connections_per_address;
    l.first_request_timeout = std::chrono::seconds(config.server.request_timeout);
    l.max_first_request = config.server.max_request_size;
    return l;
  }

  GstRTSPAddressPool* address_pool(const PathConfig& p) {
    if (!(p.protocols & kProtoUdpMcast))
      return nullptr;
    auto& pool = address_pools[range_key(p.multicast)];
    if (!pool)
      pool = mounts::make_address_pool(p.multicast);
    return pool.get();
  }

  void mount(const PathConfig& p) {
    if (p.is_pattern())
      return;  // mounted per path on the first ANNOUNCE (publish_mount.h)
    if (p.is_root()) {
      files->add(p, address_pool(p));
      return;
    }
    LiveMount m = make_live_mount(p, address_pool(p), publish);
    if (m.source) {
      auto& path = paths[p.name];
      if (path)
        path->stop();  // a reloaded path's old source
      // Sources call on the control context, before attach() too: then
      // there is no updater yet and attach() updates once.
      m.source->on_change([this] { request_update(); });
      path = std::make_unique<Path>(p.name, m.source, publish->traffic->of(p.name));
      wire(*path, p.proxy);
      if (records(p))
        m.source->hold(true);  // before attach: an always-recorded line starts at once
      if (context)
        m.source->attach(context.get());
    }
    auto factory = std::move(m.factory);
    gst_rtsp_mount_points_add_factory(mounts.get(), p.name.c_str(), factory.release());
    GST_INFO("mounted %s", p.name.c_str());
  }

  // The clients are found here, before the path's new version can have
  // any; they are closed on a thread of their own (gone_path_clients.h).
  void drop_sessions(const std::vector<std::string>& names) {
    if (names.empty())
      return;
    drop_off_thread(names, clients_of(server.get(), names));
  }

  void close_all() {
    if (!server)
      return;
    GList* left = gst_rtsp_server_client_filter(server.get(), close_client, nullptr);
    g_list_free_full(left, g_object_unref);
    GList* all = gst_rtsp_session_pool_filter(
        sessions.get(),
        [](GstRTSPSessionPool*, GstRTSPSession*, gpointer) noexcept {
          return GST_RTSP_FILTER_REMOVE;
        },
        nullptr);
    g_list_free_full(all, g_object_unref);
  }
};

Server::Server(const Config& config) {
  if (!gst_is_initialized())
    gst_init(nullptr, nullptr);
  GST_DEBUG_CATEGORY_INIT(gms_server_debug, "gmsserver", 0, "gst-mediaserver server core");
  find_elements_once();
  impl_ = std::make_unique<Impl>(config);
  impl_->owner = this;
}

Server::~Server() = default;

void Server::attach(GMainContext* context) {
  Impl& d = *impl_;
  d.context = context ? Ref<GMainContext>::borrow(context)
                      : Ref<GMainContext>::adopt(g_main_context_ref_thread_default());
  const ServerConfig& sc = d.config.server;
  d.events->attach(d.context.get());
  d.front_door = std::make_unique<FrontDoor>(d.server.get(), d.context.get(), d.limits(), d.policy);
  d.front_door->listen(sc.address, sc.port, sc.backlog);
  d.bound_port = d.front_door->port();
  d.auth->attach(d.context.get());
  d.hooks->control = d.context;
  d.open_extra_doors();
  if (sc.http_port != 0)
    d.start_http(sc.http_port);
  d.updater = std::make_shared<CoalescedCall>(d.context.get(), [&d] { d.update_recordings(); });
  d.proxy_patterns->attach(d.context.get(), CoalescedCall::asker(d.updater), d.publish->traffic);
  d.publish->registry->set_on_change(CoalescedCall::asker(d.updater));
  d.retention = std::make_unique<record::RetentionSweeper>(d.context.get(), [&d] {
    std::set<std::string> writing;
    for (const auto& [served, path] : d.paths)
      if (path->recording())
        writing.insert(served);
    return record::plan_retention(d.config, std::move(writing));
  });
  if (sc.accept_register) {
    proxy::Registrar::Hooks hooks;
    hooks.add = [&d](const std::string& name, const std::string& url, bool via_tcp) {
      return d.register_path(name, url, via_tcp);
    };
    hooks.remove = [&d](const std::string& name) { d.unregister_path(name); };
    hooks.realm = sc.realm;
    if (d.auth->enabled())
      hooks.authorize = [policy = d.auth->policy()](const std::string& authorization,
                                                    const std::string& method,
                                                    const std::string& nonce) {
        auto core = policy->core();
        return core && auth::register_allowed(*core, authorization, method, nonce);
      };
    d.registrar = std::make_unique<proxy::Registrar>(d.context.get(), sc.register_user,
                                                     sc.register_password, std::move(hooks));
    proxy::Registrar* reg = d.registrar.get();
    d.front_door->set_register_handler(
        [reg](Ref<GSocket> sock, const std::string& peer, const std::string& request) {
          reg->take(std::move(sock), peer, request);
        });
  }
  for (auto& [name, path] : d.paths)
    path->source().attach(d.context.get());
  d.update_recordings();

  // Expired sessions are only removed when someone asks the pool. Asked
  // each second, by the sessions' worker: a session's removal tears its
  // media down, which can wait on the media (the pool's own watch would
  // also fire again and again while an expired session waits there).
  d.session_cleanup = every_seconds(d.context.get(), 1, d.registry.get(),
                                    [](session::Registry& r) { r.expire(); });

  // The end-of-session line reports the last figures read.
  d.session_refresh = every_seconds(d.context.get(), 2, d.registry.get(),
                                    [](session::Registry& r) { r.refresh(); });
  d.dropped = std::make_shared<session::DroppedViewers>(d.sessions.get(), d.registry,
                                                        d.context.get());
  d.dropped_watch = every_seconds(d.context.get(), 2, d.dropped.get(),
                                  [](session::DroppedViewers& v) { v.look(); });
  // Publishers are cut off on this context (never on a streaming thread).
  d.publish->control = d.context;
  d.publisher_watchdog = every_seconds(d.context.get(), 1, d.publish.get(),
                                       [](mounts::PublishContext& c) { mounts::check_idle_publishers(c); });
}

std::vector<std::string> Server::Impl::reload_to(const Config& config) {
  Impl& d = *this;
  std::vector<std::string> notes;
  // First: an unreadable users file refuses the whole change.
  notes = d.auth->apply(config);
  if (unsigned n = d.auth->end_stale_sessions(d.server.get(), d.sessions.get()))
    notes.push_back("closed " + std::to_string(n) + " connection(s) of removed or changed users");
  const ServerConfig &a = d.config.server, &b = config.server;
  if (a.port != b.port || a.address != b.address || a.backlog != b.backlog ||
      a.threads != b.threads || a.max_sessions != b.max_sessions || a.http_port != b.http_port ||
      a.http_address != b.http_address)
    notes.push_back("server settings (port, address, backlog, threads, max-sessions, http-port) "
                    "change only at a restart; kept as they were");
  if (a.tls_cert != b.tls_cert || a.tls_key != b.tls_key || a.tls_port != b.tls_port ||
      a.http_tunnel_port != b.http_tunnel_port)
    notes.push_back("tls-cert, tls-key, tls-port and http-tunnel-port change only at a restart; "
                    "kept as they were");
  log::set_verbosity(b.verbosity);
  log::set_format(b.log_format == "json" ? log::Format::kJson : log::Format::kText);
  d.policy->session_timeout = b.session_timeout;  // new sessions only
  d.policy->max_request_size = b.max_request_size;

  std::vector<std::string> gone;
  for (const auto& old : d.config.paths) {
    const PathConfig* now = config.find_path(old.name);
    if (!now || !now->same_source(old)) {
      if (old.is_pattern()) {
        for (const auto& name : mounts::pattern_mounts(d.mounts.get(), old.name)) {
          gst_rtsp_mount_points_remove_factory(d.mounts.get(), name.c_str());
          gone.push_back(name);
        }
      } else if (old.is_root()) {
        for (auto& f : d.files->remove(old.name))
          gone.push_back(std::move(f));
      } else {
        gst_rtsp_mount_points_remove_factory(d.mounts.get(), old.name.c_str());
        d.unmount(old.name);
      }
      gone.push_back(old.name);
      notes.push_back((now ? "changed " : "removed ") + old.name);
      d.post_path_event(now ? ServerEvent::Kind::kPathChanged : ServerEvent::Kind::kPathRemoved,
                        old.name);
    }
  }
  d.drop_sessions(gone);
  for (const auto& p : config.paths) {
    const PathConfig* before = d.config.find_path(p.name);
    if (!before || !before->same_source(p)) {
      d.mount(p);
      if (!before) {
        notes.push_back("added " + p.name);
        d.post_path_event(ServerEvent::Kind::kPathAdded, p.name);
      }
    }
  }
  ServerConfig kept = d.config.server;
  d.config = config;
  d.config.server.port = kept.port;
  d.config.server.address = kept.address;
  d.config.server.http_port = kept.http_port;
  d.config.server.http_address = kept.http_address;
  d.config.server.config_file = kept.config_file.empty() ? b.config_file : kept.config_file;
  d.config.server.tls_cert = kept.tls_cert;
  d.config.server.tls_key = kept.tls_key;
  d.config.server.tls_port = kept.tls_port;
  d.config.server.http_tunnel_port = kept.http_tunnel_port;
  for (FrontDoor* door : {d.front_door.get(), d.tls_door.get(), d.tunnel_door.get()})
    if (door)
      door->set_limits(d.limits());
  d.hooks->first_request = std::chrono::seconds(config.server.request_timeout);
  d.update_patterns();
  d.publish->registry->set_max_publishers(config.server.max_publishers);
  d.publish->max_viewers = config.server.max_viewers;
  d.pipelines->set_max(config.server.max_pipelines);
  return notes;
}

std::vector<std::string> Server::reload(const Config& config) {
  // The file's paths with the API's changes made since (kept in memory
  // unless api-writes-config wrote them there); refused as a whole when
  // they no longer fit together.
  Config merged = config;
  impl_->runtime.merge_into(merged);
  impl_->merge_code_paths(merged);
  merged.validate();
  return impl_->reload_to(merged);
}

void Server::close_all_sessions() { impl_->close_all(); }

void Server::drain() {
  Impl& d = *impl_;
  if (d.draining)
    return;
  d.draining = true;
  d.policy->draining = true;
  if (d.front_door)
    d.front_door->stop_listening();
  GMS_LOG_INFO("draining: no new sessions; %u connection(s) open", connection_count());
}

bool Server::draining() const { return impl_->draining; }

unsigned Server::connection_count() const { return impl_->policy->clients.load(); }

uint16_t Server::port() const { return impl_->bound_port; }

uint16_t Server::http_port() const { return impl_->http ? impl_->http->port() : 0; }

uint16_t Server::tls_port() const { return impl_->tls_door ? impl_->tls_door->port() : 0; }

uint16_t Server::http_tunnel_port() const {
  return impl_->tunnel_door ? impl_->tunnel_door->port() : 0;
}

std::vector<std::string> Server::urls() const {
  std::string host = impl_->config.server.address;
  if (host == "0.0.0.0" || host == "::")
    host = "127.0.0.1";
  else if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  std::vector<std::string> out;
  for (const auto& p : impl_->config.paths) {
    std::string name = p.name;
    if (p.is_root() && name != "/")
      name += "/";  // files under it
    out.push_back("rtsp://" + host + ":" + std::to_string(port()) + name);
  }
  return out;
}

std::vector<ServedFile> list_served_files(const PathConfig& path, std::vector<std::string>* skipped) {
  if (!gst_is_initialized())
    gst_init(nullptr, nullptr);
  std::vector<ServedFile> out;
  for (auto& f : mounts::scan_root(path, skipped))
    out.push_back({std::move(f.url_path), std::move(f.summary)});
  return out;
}

unsigned Server::session_count() const { return gst_rtsp_session_pool_get_n_sessions(impl_->sessions.get()); }

const char* version() { return GMS_VERSION; }

// --- Paths, sessions, recordings and events (the server's context) ---

namespace {

PathResult refused(unsigned status, std::string key, std::string reason, std::string name) {
  PathResult r;
  r.status = status;
  r.key = std::move(key);
  r.reason = std::move(reason);
  r.name = std::move(name);
  return r;
}

}  // namespace

PathResult Server::add_path(const PathConfig& path) {
  std::string why;
  if (!check_path_name(path.name, why, true))
    return refused(400, "name", why, path.name);
  if (impl_->config.find_path(path.name))
    return refused(409, "name", path.name + " exists (change_path changes it)", path.name);
  return impl_->change_in_code(path, 201);
}

PathResult Server::change_path(const std::string& name, const PathConfig& path) {
  if (!impl_->config.find_path(name))
    return refused(404, "", "no path " + name, name);
  if (!path.name.empty() && path.name != name)
    return refused(400, "name", "a path is not renamed (remove it and add the new name)", name);
  PathConfig p = path;
  p.name = name;
  return impl_->change_in_code(std::move(p), 200);
}

PathResult Server::remove_path(const std::string& name) {
  Impl& d = *impl_;
  auto apply = [&d](const Config& next) { d.reload_to(next); };
  PathResult r = d.runtime.remove(d.config, name, apply);
  if (r.ok())
    d.code_paths.erase(name);  // the API's overlay keeps it removed
  return r;
}

PathResult Server::add_path_json(const std::string& json) {
  Impl& d = *impl_;
  auto apply = [&d](const Config& next) { d.reload_to(next); };
  PathResult r = d.runtime.add(d.config, json, apply);
  if (r.ok())
    d.code_paths.erase(r.name);
  return r;
}

PathResult Server::change_path_json(const std::string& name, const std::string& json) {
  Impl& d = *impl_;
  auto apply = [&d](const Config& next) { d.reload_to(next); };
  PathResult r = d.runtime.patch(d.config, name, json, apply);
  if (r.ok())
    d.code_paths.erase(name);
  return r;
}

std::vector<PathInfo> Server::paths() const { return impl_->path_entries(); }

std::optional<PathInfo> Server::path(const std::string& name) const {
  return impl_->path_detail(name);
}

std::vector<SessionInfo> Server::sessions() const { return impl_->registry->list(); }

bool Server::kick_session(const std::string& id) { return impl_->registry->end(id); }

RecordingResult Server::start_recording(const std::string& path) {
  return impl_->set_recording(path, true);
}

RecordingResult Server::stop_recording(const std::string& path) {
  return impl_->set_recording(path, false);
}

std::vector<RecordingInfo> Server::recordings() const { return impl_->recording_entries(); }

ServerFigures Server::figures() const { return impl_->counters(); }

namespace {
unsigned role_bits(Server::Role role) {
  switch (role) {
    case Server::Role::kRead:
      return auth::kRead;
    case Server::Role::kPublish:
      return auth::kPublish;
    case Server::Role::kAdmin:
      return auth::kAdmin;
  }
  return 0;
}
}  // namespace

bool Server::has_users() const { return impl_->auth->policy()->core() != nullptr; }

std::string Server::users_realm() const {
  auto core = impl_->auth->policy()->core();
  return core ? core->settings().realm : std::string();
}

bool Server::basic_over_plain_allowed() const {
  auto core = impl_->auth->policy()->core();
  return core && core->settings().allow_basic_plaintext;
}

bool Server::check_password(const std::string& user, const std::string& password) const {
  auto core = impl_->auth->policy()->core();
  return core && core->basic_user(user, password).has_value();
}

std::string Server::digest_ha1(const std::string& user) const {
  auto core = impl_->auth->policy()->core();
  return core ? core->ha1_of(user) : std::string();
}

bool Server::user_may(const std::string& user, Role role, const std::string& path) const {
  auto core = impl_->auth->policy()->core();
  auto u = core ? core->user(user) : std::nullopt;
  if (!u)
    return false;
  return path.empty() ? u->allows_anywhere(role_bits(role)) : u->allows(role_bits(role), path);
}

void Server::count_auth_failure() { auth::count_failure(); }

EventToken Server::subscribe(EventCallback callback) {
  return impl_->events->subscribe(std::move(callback));
}

void Server::unsubscribe(EventToken token) { impl_->events->unsubscribe(token); }

}  // namespace gms
