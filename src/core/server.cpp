// gms::Server: the GstRTSPServer with server-grade settings, one factory per
// configured path, reload by diff.
#include <gst-mediaserver/server.h>

#include <gst/rtsp-server/rtsp-server.h>

#include <map>
#include <mutex>

#include "core/client_guard.h"
#include "core/log.h"
#include "core/session_pool.h"
#include "gms/ref.h"
#include "gms/signal.h"
#include "mounts/file_mount.h"
#include "mounts/launch_mount.h"
#include "mounts/media_setup.h"

GST_DEBUG_CATEGORY_STATIC(gms_server_debug);
#define GST_CAT_DEFAULT gms_server_debug

namespace gms {
namespace {

std::string range_key(const MulticastRange& m) {
  return m.min_address + "-" + m.max_address + ":" + std::to_string(m.min_port) + "-" +
         std::to_string(m.max_port) + "/" + std::to_string(m.ttl);
}

void on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer data) noexcept {
  guard_client(client, *static_cast<std::shared_ptr<ClientPolicy>*>(data));
}

// Session filter: drop the session medias of the given paths.
GstRTSPFilterResult drop_session_media(GstRTSPSession*, GstRTSPSessionMedia* sm,
                                       gpointer data) noexcept {
  auto* names = static_cast<const std::vector<std::string>*>(data);
  for (const auto& n : *names) {
    gint matched = 0;
    if (gst_rtsp_session_media_matches(sm, n.c_str(), &matched) ||
        gst_rtsp_session_media_matches(sm, (n + "/").c_str(), &matched))
      return GST_RTSP_FILTER_REMOVE;
  }
  return GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult drop_client_sessions(GstRTSPClient*, GstRTSPSession* sess,
                                         gpointer data) noexcept {
  gst_rtsp_session_filter(sess, drop_session_media, data);
  // A session left without media is removed; its client stays connected.
  GList* left = gst_rtsp_session_filter(sess, nullptr, nullptr);
  bool empty = left == nullptr;
  g_list_free_full(left, g_object_unref);
  return empty ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
}

GstRTSPFilterResult filter_clients_sessions(GstRTSPServer*, GstRTSPClient* client,
                                            gpointer data) noexcept {
  gst_rtsp_client_session_filter(client, drop_client_sessions, data);
  return GST_RTSP_FILTER_KEEP;
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
  std::map<std::string, Ref<GstRTSPAddressPool>> address_pools;
  std::shared_ptr<mounts::FileRoots> files;
  SourceHolder listen_source;
  SourceHolder session_cleanup;
  uint16_t bound_port = 0;

  explicit Impl(const Config& cfg) : config(cfg) {
    const ServerConfig& s = cfg.server;
    log::set_verbosity(s.verbosity);
    server = Ref<GstRTSPServer>::adopt(gst_rtsp_server_new());
    gst_rtsp_server_set_address(server.get(), s.address.c_str());
    gst_rtsp_server_set_service(server.get(), std::to_string(s.port).c_str());
    gst_rtsp_server_set_backlog(server.get(), static_cast<gint>(s.backlog));

    auto pool = Ref<GstRTSPThreadPool>::adopt(gst_rtsp_server_get_thread_pool(server.get()));
    gst_rtsp_thread_pool_set_max_threads(pool.get(), static_cast<gint>(s.effective_threads()));

    sessions = Ref<GstRTSPSessionPool>::adopt(gms_session_pool_new());
    gst_rtsp_session_pool_set_max_sessions(sessions.get(), s.max_sessions);
    gst_rtsp_server_set_session_pool(server.get(), sessions.get());

    policy->max_request_size = s.max_request_size;
    policy->session_timeout = s.session_timeout;
    g_signal_connect_data(server.get(), "client-connected", G_CALLBACK(on_client_connected),
                          new std::shared_ptr<ClientPolicy>(policy),
                          [](gpointer p, GClosure*) {
                            delete static_cast<std::shared_ptr<ClientPolicy>*>(p);
                          },
                          GConnectFlags(0));

    mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server.get()));
    files = std::make_shared<mounts::FileRoots>(mounts.get());
    policy->resolve = [files = files](const std::string& abspath, bool setup) {
      return files->resolve(abspath, setup);
    };
    for (const auto& p : cfg.paths)
      mount(p);
  }

  ~Impl() {
    listen_source.reset();
    session_cleanup.reset();
    close_all();
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
    if (p.is_root()) {
      files->add(p, address_pool(p));
      return;
    }
    auto factory = mounts::make_launch_factory(p, address_pool(p));
    gst_rtsp_mount_points_add_factory(mounts.get(), p.name.c_str(), factory.release());
    GST_INFO("mounted %s", p.name.c_str());
  }

  void drop_sessions(const std::vector<std::string>& names) {
    if (names.empty())
      return;
    gst_rtsp_server_client_filter(server.get(), filter_clients_sessions,
                                  const_cast<std::vector<std::string>*>(&names));
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
  impl_ = std::make_unique<Impl>(config);
}

Server::~Server() = default;

void Server::attach(GMainContext* context) {
  Impl& d = *impl_;
  d.context = context ? Ref<GMainContext>::borrow(context)
                      : Ref<GMainContext>::adopt(g_main_context_ref_thread_default());
  GErrorPtr err;
  GSource* src = gst_rtsp_server_create_source(d.server.get(), nullptr, out(err));
  if (!src) {
    std::string why = err ? err->message : "unknown error";
    throw ConfigError({{"server", 0, "server", "port",
                        "cannot listen on " + d.config.server.address + ":" +
                            std::to_string(d.config.server.port) + ": " + why}});
  }
  d.listen_source = SourceHolder(src);
  g_source_attach(src, d.context.get());
  d.bound_port = static_cast<uint16_t>(gst_rtsp_server_get_bound_port(d.server.get()));

  // Expired sessions are only removed when someone asks the pool.
  GSource* cleanup = gst_rtsp_session_pool_create_watch(d.sessions.get());
  g_source_set_callback(
      cleanup,
      G_SOURCE_FUNC(+[](GstRTSPSessionPool* pool, gpointer) noexcept -> gboolean {
        gst_rtsp_session_pool_cleanup(pool);
        return G_SOURCE_CONTINUE;
      }),
      nullptr, nullptr);
  d.session_cleanup = SourceHolder(cleanup);
  g_source_attach(cleanup, d.context.get());
}

std::vector<std::string> Server::reload(const Config& config) {
  Impl& d = *impl_;
  std::vector<std::string> notes;
  const ServerConfig &a = d.config.server, &b = config.server;
  if (a.port != b.port || a.address != b.address || a.backlog != b.backlog ||
      a.threads != b.threads || a.max_sessions != b.max_sessions)
    notes.push_back("server settings (port, address, backlog, threads, max-sessions) "
                    "change only at a restart; kept as they were");
  log::set_verbosity(b.verbosity);
  d.policy->session_timeout = b.session_timeout;  // new sessions only
  d.policy->max_request_size = b.max_request_size;

  std::vector<std::string> gone;
  for (const auto& old : d.config.paths) {
    const PathConfig* now = config.find_path(old.name);
    if (!now || !now->same_source(old)) {
      if (old.is_root()) {
        for (auto& f : d.files->remove(old.name))
          gone.push_back(std::move(f));
      } else {
        gst_rtsp_mount_points_remove_factory(d.mounts.get(), old.name.c_str());
      }
      gone.push_back(old.name);
      notes.push_back((now ? "changed " : "removed ") + old.name);
    }
  }
  d.drop_sessions(gone);
  for (const auto& p : config.paths) {
    const PathConfig* before = d.config.find_path(p.name);
    if (!before || !before->same_source(p)) {
      d.mount(p);
      if (!before)
        notes.push_back("added " + p.name);
    }
  }
  ServerConfig kept = d.config.server;
  d.config = config;
  d.config.server.port = kept.port;
  d.config.server.address = kept.address;
  return notes;
}

void Server::close_all_sessions() { impl_->close_all(); }

uint16_t Server::port() const { return impl_->bound_port; }

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

}  // namespace gms
