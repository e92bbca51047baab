#include "session/session_registry.h"

#include <gst/rtsp-server/rtsp-mount-points.h>
#include <gst/rtsp-server/rtsp-session-media.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <set>

#include "core/client_signals.h"
#include "core/log.h"
#include "session/client_socket.h"
#include "session/figure_reader.h"
#include "session/pool_snapshot.h"
#include "session/tcp_sent.h"

namespace gms::session {
namespace {

using Weak = std::weak_ptr<Registry>;


std::string remote_of(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  const char* ip = conn ? gst_rtsp_connection_get_ip(conn) : nullptr;
  std::string out = ip ? ip : "?";
  // Our own reference: a connection closed under a request (a publisher
  // replaced while its ANNOUNCE is handled) has no socket left, and asking
  // it for one is a CRITICAL (client_socket.h).
  Ref<GSocket> sock = open_write_socket(client);
  auto addr = Ref<GSocketAddress>::adopt(sock ? g_socket_get_remote_address(sock.get(), nullptr)
                                              : nullptr);
  if (addr && G_IS_INET_SOCKET_ADDRESS(addr.get())) {
    guint16 port = g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(addr.get()));
    out = (out.find(':') != std::string::npos ? "[" + out + "]" : out) + ":" + std::to_string(port);
  }
  return out;
}

// The mount a request's URL falls under: "/cam" for rtsp://host/cam/stream=0.
std::string served_path(GstRTSPClient* client, GstRTSPContext* ctx) {
  if (!ctx->uri || !ctx->uri->abspath)
    return {};
  std::string abspath = ctx->uri->abspath;
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_client_get_mount_points(client));
  gint matched = 0;
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      mounts ? gst_rtsp_mount_points_match(mounts.get(), abspath.c_str(), &matched) : nullptr);
  if (factory && matched > 0 && size_t(matched) <= abspath.size())
    return abspath.substr(0, size_t(matched));
  return abspath;
}

std::string first_transport(GstRTSPSessionMedia* sm, GstRTSPClient* client) {
  if (!sm)
    return {};
  GPtrArray* transports = gst_rtsp_session_media_get_transports(sm);
  std::string name;
  // The first track set up (one the client did not set up has no transport).
  for (guint i = 0; transports && i < transports->len && name.empty(); ++i) {
    auto* trans = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
    if (trans)
      name = transport_name(gst_rtsp_stream_transport_get_transport(trans), client);
  }
  if (transports)
    g_ptr_array_unref(transports);
  return name;
}

std::vector<log::Field> fields_of(const Info& i) {
  std::vector<log::Field> f = {log::text_field("id", i.id), log::text_field("remote", i.remote)};
  f.push_back(i.user ? log::text_field("user", *i.user) : log::null_field("user"));
  f.push_back(log::text_field("path", i.path));
  f.push_back(log::text_field("transport", i.transport));
  f.push_back(log::text_field("role", i.role));
  return f;
}

void merge(Figures& into, const Figures& f) {
  auto keep = [](auto& a, const auto& b) {
    if (b)
      a = b;
  };
  keep(into.bytes_sent, f.bytes_sent);
  keep(into.packets_sent, f.packets_sent);
  keep(into.bytes_received, f.bytes_received);
  keep(into.packets_received, f.packets_received);
  keep(into.fraction_lost, f.fraction_lost);
  keep(into.cumulative_lost, f.cumulative_lost);
}

}  // namespace

Registry::Registry(GstRTSPSessionPool* pool) : pool_(Ref<GstRTSPSessionPool>::borrow(pool)) {
  removed_ = SignalConnection(pool, "session-removed", G_CALLBACK(on_removed), this);
}

Registry::~Registry() { removed_.disconnect(); }

void Registry::watch(GstRTSPClient* client) { keep_write_socket(client); }

void Registry::add_hooks(ClientSignals& signals) {
  auto* weak = new Weak(weak_from_this());  // the table frees it
  signals.connect("new-session", G_CALLBACK(on_new_session), weak,
                  [](gpointer p) { delete static_cast<Weak*>(p); });
  auto connect = [&](const char* signal, GCallback cb) { signals.connect(signal, cb, weak); };
  connect("play-request", G_CALLBACK(on_play_or_record));
  connect("record-request", G_CALLBACK(on_play_or_record));
  connect("pause-request", G_CALLBACK(on_pause));
  connect("pre-teardown-request", G_CALLBACK(on_teardown));
  connect("closed", G_CALLBACK(on_closed));
}

void Registry::on_new_session(GstRTSPClient* client, GstRTSPSession* session,
                              gpointer data) noexcept {
  auto self = static_cast<Weak*>(data)->lock();
  if (!self)
    return;
  Entry e;
  e.info.id = gst_rtsp_session_get_sessionid(session);
  e.info.remote = remote_of(client);
  e.info.started_us = g_get_real_time();
  e.started_mono = g_get_monotonic_time();
  e.client = Ref<GstRTSPClient>::borrow(client);
  std::lock_guard<std::mutex> hold(self->lock_);
  self->entries_[e.info.id] = std::move(e);
}

void Registry::on_play_or_record(GstRTSPClient* client, GstRTSPContext* ctx,
                                 gpointer data) noexcept {
  auto self = static_cast<Weak*>(data)->lock();
  if (!self || !ctx->session)
    return;
  const bool record = ctx->media && (gst_rtsp_media_get_transport_mode(ctx->media) &
                                     GST_RTSP_TRANSPORT_MODE_RECORD);
  self->started(client, ctx, record ? "publisher" : "viewer");
}

void Registry::started(GstRTSPClient* client, GstRTSPContext* ctx, const std::string& role) {
  const std::string id = gst_rtsp_session_get_sessionid(ctx->session);
  std::string path = served_path(client, ctx);
  std::string transport = first_transport(ctx->sessmedia, client);
  std::optional<std::string> user = user_of ? user_of(client, ctx) : std::nullopt;
  Info logged;
  {
    std::lock_guard<std::mutex> hold(lock_);
    auto it = entries_.find(id);
    if (it == entries_.end() || it->second.start_logged)
      return;
    Info& i = it->second.info;
    i.path = std::move(path);
    i.transport = std::move(transport);
    i.role = role;
    i.user = std::move(user);
    it->second.start_logged = true;
    logged = i;
  }
  log::write_fields(log::Level::kNotice, "session started", fields_of(logged));
  if (on_session)
    on_session(logged, true);
}

void Registry::on_pause(GstRTSPClient*, GstRTSPContext* ctx, gpointer) noexcept {
  tcp_transports_paused(ctx->sessmedia);
}

GstRTSPStatusCode Registry::on_teardown(GstRTSPClient* client, GstRTSPContext* ctx,
                                        gpointer data) noexcept {
  auto self = static_cast<Weak*>(data)->lock();
  if (self && ctx->session) {
    // The last figures before the library takes the transports down.
    FigureReader reader;
    self->keep_figures(gst_rtsp_session_get_sessionid(ctx->session),
                       reader.read(ctx->session, client));
  }
  return GST_RTSP_STS_OK;  // a pre-request handler's answer: go on
}

void Registry::on_closed(GstRTSPClient* client, gpointer data) noexcept {
  auto self = static_cast<Weak*>(data)->lock();
  if (!self)
    return;
  // A session answers only to the connection that made it, and its media
  // stops with that connection: it ends here, not at its timeout.
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> hold(self->lock_);
    for (auto& [id, e] : self->entries_)
      if (e.client.get() == client)
        ids.push_back(id);
  }
  auto sessions = pool_snapshot(self->pool_.get());
  for (const auto& id : ids) {
    if (auto it = sessions.find(id); it != sessions.end()) {
      FigureReader reader;
      self->keep_figures(id, reader.read(it->second.get(), client));
    }
    self->ended(id);
  }
}

void Registry::on_removed(GstRTSPSessionPool*, GstRTSPSession* session, gpointer data) noexcept {
  static_cast<Registry*>(data)->ended(gst_rtsp_session_get_sessionid(session));
}

void Registry::ended(const std::string& id) {
  Entry e;
  {
    std::lock_guard<std::mutex> hold(lock_);
    auto it = entries_.find(id);
    if (it == entries_.end())
      return;
    e = std::move(it->second);
    entries_.erase(it);
  }
  if (!e.start_logged)
    return;  // set up, never played or recorded: no session to speak of
  auto fields = fields_of(e.info);
  fields.push_back(log::number_field("duration_ms", (g_get_monotonic_time() - e.started_mono) / 1000));
  const Figures& f = e.info.figures;
  const auto& bytes = e.info.role == "publisher" ? f.bytes_received : f.bytes_sent;
  fields.push_back(bytes ? log::number_field("bytes", gint64(*bytes)) : log::null_field("bytes"));
  log::write_fields(log::Level::kNotice, "session ended", fields);
  if (on_session)
    on_session(e.info, false);
}

void Registry::keep_figures(const std::string& id, const Figures& f) {
  std::lock_guard<std::mutex> hold(lock_);
  if (auto it = entries_.find(id); it != entries_.end())
    merge(it->second.info.figures, f);
}

std::vector<std::pair<std::string, Ref<GstRTSPClient>>> Registry::clients() {
  std::lock_guard<std::mutex> hold(lock_);
  std::vector<std::pair<std::string, Ref<GstRTSPClient>>> out;
  for (auto& [id, e] : entries_)
    out.emplace_back(id, e.client);
  return out;
}

void Registry::read_figures() {
  FigureReader reader;
  std::map<std::string, Figures> figures;
  auto sessions = pool_snapshot(pool_.get());
  for (auto& [id, client] : clients()) {
    if (auto it = sessions.find(id); it != sessions.end())
      figures[id] = reader.read(it->second.get(), client.get());
  }
  std::lock_guard<std::mutex> hold(lock_);
  for (auto& [id, f] : figures)
    if (auto it = entries_.find(id); it != entries_.end())
      merge(it->second.info.figures, f);
}

void Registry::post_once(bool Registry::*queued, void (Registry::*job)()) {
  {
    std::lock_guard<std::mutex> hold(read_lock_);
    if (this->*queued)
      return;
    this->*queued = true;
  }
  Weak weak = weak_from_this();
  if (!worker_.post([weak, queued, job] {
        auto self = weak.lock();
        if (!self)
          return;
        {
          std::lock_guard<std::mutex> hold(self->read_lock_);
          (*self).*queued = false;
        }
        ((*self).*job)();
      })) {
    std::lock_guard<std::mutex> hold(read_lock_);
    this->*queued = false;
  }
}

void Registry::queue_read() { post_once(&Registry::read_queued_, &Registry::read_job); }

void Registry::read_job() {
  uint64_t serving = 0;
  {
    std::lock_guard<std::mutex> hold(read_lock_);
    serving = asked_;  // every ask made before this read starts
  }
  read_figures();
  {
    std::lock_guard<std::mutex> hold(read_lock_);
    served_ = std::max(served_, serving);
  }
  read_done_.notify_all();
}

std::vector<Info> Registry::list() {
  if (worker_.on_thread()) {
    read_figures();
  } else if (worker_.busy_for() < kFreshWait) {
    // (A worker busy for longer waits on a media: the figures kept.)
    std::unique_lock<std::mutex> hold(read_lock_);
    const uint64_t want = ++asked_;
    hold.unlock();
    queue_read();
    hold.lock();
    read_done_.wait_for(hold, kFreshWait, [&] { return served_ >= want; });
  }
  std::vector<Info> out;
  std::lock_guard<std::mutex> hold(lock_);
  for (auto& [id, e] : entries_)
    out.push_back(e.info);
  return out;
}

bool Registry::end(const std::string& id) {
  auto session = Ref<GstRTSPSession>::adopt(gst_rtsp_session_pool_find(pool_.get(), id.c_str()));
  if (!session)
    return false;
  Weak weak = weak_from_this();
  auto job = [weak, id, session] {
    if (auto self = weak.lock())
      self->end_now(id, session.get());
  };
  if (worker_.on_thread() || !worker_.post(job))
    job();
  return true;
}

void Registry::end_now(const std::string& id, GstRTSPSession* session) {
  Ref<GstRTSPClient> client;
  {
    std::lock_guard<std::mutex> hold(lock_);
    if (auto it = entries_.find(id); it != entries_.end())
      client = it->second.client;
  }
  {
    FigureReader reader;
    keep_figures(id, reader.read(session, client.get()));
  }
  if (client) {
    gst_rtsp_client_session_filter(
        client.get(),
        [](GstRTSPClient*, GstRTSPSession* s, gpointer target) noexcept {
          return s == target ? GST_RTSP_FILTER_REMOVE : GST_RTSP_FILTER_KEEP;
        },
        session);
  }
  gst_rtsp_session_pool_remove(pool_.get(), session);
  if (client)
    gst_rtsp_client_close(client.get());
}

void Registry::expire() { post_once(&Registry::expire_queued_, &Registry::expire_job); }

void Registry::expire_job() { gst_rtsp_session_pool_cleanup(pool_.get()); }

}  // namespace gms::session
