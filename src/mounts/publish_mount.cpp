#include "mounts/publish_mount.h"

#include <gst/rtp/gstrtpbuffer.h>
#include <gst/rtsp-server/rtsp-context.h>
#include <gst/rtsp-server/rtsp-session-media.h>
#include <gst/rtsp-server/rtsp-session.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <algorithm>
#include <mutex>
#include <optional>
#include <set>

#include "config/value_parsers.h"
#include "core/client_signals.h"
#include "core/log.h"
#include "core/relay_channel.h"
#include "core/session_pool.h"
#include "gms/invoke.h"
#include "mounts/announce_check.h"
#include "mounts/eos_renewal.h"
#include "mounts/gop_replay.h"
#include "mounts/media_setup.h"
#include "mounts/publisher_input.h"
#include "mounts/relay_queue.h"
#include "mounts/sink_tap.h"
#include "mounts/tcp_join_gate.h"
#include "session/figure_reader.h"
#include "session/record_liveness.h"
#include "session/tcp_sent.h"

// ---- the factory -----------------------------------------------------------

G_BEGIN_DECLS
#define GMS_TYPE_PUBLISH_FACTORY (gms_publish_factory_get_type())
G_DECLARE_FINAL_TYPE(GmsPublishFactory, gms_publish_factory, GMS, PUBLISH_FACTORY,
                     GstRTSPMediaFactory)
G_END_DECLS

namespace {
struct FactoryImpl {
  gms::PathConfig path;
  gms::mounts::PublishContextPtr ctx;
  std::atomic<uint64_t> record_seq{0};
};
}  // namespace

struct _GmsPublishFactory {
  GstRTSPMediaFactory parent;
  FactoryImpl* impl;
};

G_DEFINE_FINAL_TYPE(GmsPublishFactory, gms_publish_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

namespace {

using gms::Ref;

const char kPlayPath[] = "gms-publish-play-path";      // on PLAY medias of publish paths
const char kRecordPath[] = "gms-publish-record-path";  // on RECORD medias
const char kClaim[] = "gms-publish-claim";             // on RECORD medias
const char kRefusal[] = "gms-refusal";                 // on clients: reason for the next error
const char kLateJoin[] = "gms-late-join";              // on clients: PLAY joins a running media
const char kInject[] = "gms-inject";                   // on clients: GOP to send after the reply
const char kHeld[] = "gms-held";                       // on clients: UDP joiners held out of sinks
const char kTcpHeld[] = "gms-tcp-held";                // on clients: TCP joiners' streams closed
const char kRetryAfter[] = "5";                        // s, in every 503 reply

bool announcing() {
  GstRTSPContext* ctx = gst_rtsp_context_get_current();
  return ctx && ctx->method == GST_RTSP_ANNOUNCE;
}

// The number of media the ANNOUNCE being handled declares (0 if none).
unsigned announced_tracks() {
  GstRTSPContext* ctx = gst_rtsp_context_get_current();
  if (!ctx || !ctx->request)
    return 0;
  guint8* body = nullptr;
  guint size = 0;
  gst_rtsp_message_get_body(ctx->request, &body, &size);
  auto check = gms::mounts::check_announce_body(body, size);
  return check.ok ? check.tracks : 0;
}

// Runs on an RTSP client thread (ANNOUNCE, DESCRIBE or SETUP of a new media).
GstElement* create_element(GstRTSPMediaFactory* factory, const GstRTSPUrl*) noexcept {
  FactoryImpl& d = *GMS_PUBLISH_FACTORY(factory)->impl;
  GstElement* bin = gst_bin_new(nullptr);
  if (announcing()) {
    // One relay sink per announced track (at least one, so that a refused
    // ANNOUNCE still gets its answer from pre-announce-request).
    unsigned n = std::clamp(announced_tracks(), 1u, gms::mounts::kMaxPublishedTracks);
    for (unsigned i = 0; i < n; ++i) {
      // The media's stream for track i is the element named depay<i>: the
      // path's msstats, then the relay sink (relay<i>). Without msstats the
      // sink takes the name.
      std::string index = std::to_string(i);
      GstElement* tap = gst_element_factory_make("msstats", ("depay" + index).c_str());
      GstElement* sink =
          gst_element_factory_make("msrelaysink", ((tap ? "relay" : "depay") + index).c_str());
      if (!sink) {
        GMS_LOG_ERROR("path %s: msrelaysink missing", d.path.name.c_str());
        if (tap)
          gst_object_unref(tap);
        gst_object_unref(bin);
        return nullptr;
      }
      std::string channel = gms::relay_channel(d.path.name, i);
      g_object_set(sink, "channel", channel.c_str(), "gop-cache", gboolean(d.path.gop_cache),
                   nullptr);
      gst_bin_add(GST_BIN(bin), sink);
      if (tap) {
        gst_bin_add(GST_BIN(bin), tap);
        gst_element_link(tap, sink);
      }
    }
    return bin;
  }
  unsigned n = d.ctx->registry->tracks(d.path.name);
  if (n == 0) {
    GMS_LOG_INFO("path %s: no publisher", d.path.name.c_str());
    gst_object_unref(bin);
    return nullptr;
  }
  for (unsigned i = 0; i < n; ++i) {
    std::string name = "pay" + std::to_string(i);
    GstElement* src = gst_element_factory_make("msrelaysrc", name.c_str());
    if (!src) {
      GMS_LOG_ERROR("path %s: msrelaysrc missing", d.path.name.c_str());
      gst_object_unref(bin);
      return nullptr;
    }
    guint timeout = d.path.keep_viewers ? 0u : d.path.publisher_timeout * 1000u;
    g_object_set(src, "channel", gms::relay_channel(d.path.name, i).c_str(), "timeout", timeout,
                 "from-cache", gboolean(d.path.gop_cache), nullptr);
    gst_bin_add(GST_BIN(bin), src);
  }
  return bin;
}

gchar* gen_key(GstRTSPMediaFactory* factory, const GstRTSPUrl* url) noexcept {
  FactoryImpl& d = *GMS_PUBLISH_FACTORY(factory)->impl;
  if (announcing()) {  // every publisher gets its own media
    gms::mounts::unshared_media_key();
    return g_strdup_printf("record#%" G_GUINT64_FORMAT, d.record_seq.fetch_add(1));
  }
  return gms::mounts::shared_media_key(factory, url);
}

// What a publisher's media needs to know of its path; a copy, so that a
// media outliving its factory (reload) never reads a freed one.
struct RecordInfo {
  gms::PathConfig path;
  gms::mounts::PublishContextPtr ctx;
};

struct ClaimHolder {
  std::shared_ptr<gms::PathRegistry> registry;
  std::string path;
  uint64_t id;
  ~ClaimHolder() { registry->release(path, id); }
};

struct KickRequest {
  gms::mounts::PublishContextPtr ctx;
  std::string path;
  uint64_t id;
  std::string why;
};

// A publisher's pipeline failed (e.g. msrelaysink: faster than real time).
// On a streaming thread: the cut happens on the control context.
void on_record_error(GstBus*, GstMessage* msg, gpointer media) noexcept {
  auto* claim = static_cast<ClaimHolder*>(g_object_get_data(G_OBJECT(media), kClaim));
  auto* fimpl = static_cast<RecordInfo*>(g_object_get_data(G_OBJECT(media), kRecordPath));
  if (!claim || !fimpl)
    return;
  gms::GErrorPtr err;
  gst_message_parse_error(msg, gms::out(err), nullptr);
  auto* req = new KickRequest{fimpl->ctx, claim->path, claim->id, err ? err->message : "error"};
  gms::invoke_on(
      fimpl->ctx->control.get(),
      [](gpointer p) noexcept -> gboolean {
        auto* r = static_cast<KickRequest*>(p);
        r->ctx->registry->kick(r->path, r->id, r->why);
        return G_SOURCE_REMOVE;
      },
      req, [](gpointer p) { delete static_cast<KickRequest*>(p); });
}

Ref<GstBus> media_bus(GstRTSPMedia* media) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  if (!element)
    return {};
  auto pipeline = Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())));
  if (!pipeline || !GST_IS_ELEMENT(pipeline.get()))
    return {};
  return Ref<GstBus>::adopt(gst_element_get_bus(GST_ELEMENT(pipeline.get())));
}

void configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media) noexcept {
  GST_RTSP_MEDIA_FACTORY_CLASS(gms_publish_factory_parent_class)->configure(factory, media);
  FactoryImpl& d = *GMS_PUBLISH_FACTORY(factory)->impl;
  auto bus = media_bus(media);
  if (announcing()) {
    gst_rtsp_media_set_transport_mode(media, GST_RTSP_TRANSPORT_MODE_RECORD);
    gst_rtsp_media_set_shared(media, FALSE);
    g_object_set_data_full(G_OBJECT(media), kRecordPath, new RecordInfo{d.path, d.ctx},
                           [](gpointer p) { delete static_cast<RecordInfo*>(p); });
    if (bus) {
      gst_bus_enable_sync_message_emission(bus.get());
      g_signal_connect_object(bus.get(), "sync-message::error", G_CALLBACK(on_record_error),
                              media, GConnectFlags(0));
    }
  } else {
    gst_rtsp_media_set_transport_mode(media, GST_RTSP_TRANSPORT_MODE_PLAY);
    gms::mounts::mark_relay_play_media(media, d.path.name);
    // The media ended (the publisher left, or another codec came): later
    // viewers get a new one.
    gms::mounts::renew_key_at_end_of_stream(factory, media);
  }
}

void factory_finalize(GObject* object) {
  delete GMS_PUBLISH_FACTORY(object)->impl;
  G_OBJECT_CLASS(gms_publish_factory_parent_class)->finalize(object);
}

}  // namespace

static void gms_publish_factory_class_init(GmsPublishFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = factory_finalize;
  auto* f = GST_RTSP_MEDIA_FACTORY_CLASS(klass);
  f->create_element = create_element;
  f->gen_key = gen_key;
  f->configure = configure;
}

static void gms_publish_factory_init(GmsPublishFactory* self) { self->impl = new FactoryImpl(); }

// ---- mount points with patterns -------------------------------------------

G_BEGIN_DECLS
#define GMS_TYPE_MOUNT_POINTS (gms_mount_points_get_type())
G_DECLARE_FINAL_TYPE(GmsMountPoints, gms_mount_points, GMS, MOUNT_POINTS, GstRTSPMountPoints)
G_END_DECLS

namespace {
constexpr size_t kMaxPatternMounts = 10000;

struct MountsImpl {
  std::function<Ref<GstRTSPMediaFactory>(const gms::PathConfig&)> make_factory;
  // Protects patterns and mounted; held while a pattern's path is mounted
  // (before the mount points' own lock).
  std::mutex mutex;
  std::vector<gms::PathConfig> patterns;
  std::map<std::string, std::set<std::string>> mounted;  // pattern → exact paths
  size_t total = 0;
};
}  // namespace

struct _GmsMountPoints {
  GstRTSPMountPoints parent;
  MountsImpl* impl;
};

G_DEFINE_FINAL_TYPE(GmsMountPoints, gms_mount_points, GST_TYPE_RTSP_MOUNT_POINTS)

namespace {

// "/live/cam1/stream=0" → "/live/cam1".
std::string strip_control(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash != std::string::npos && path.compare(slash + 1, 7, "stream=") == 0)
    return path.substr(0, slash);
  return path;
}

gchar* make_path(GstRTSPMountPoints* mounts, const GstRTSPUrl* url) noexcept {
  gchar* path = GST_RTSP_MOUNT_POINTS_CLASS(gms_mount_points_parent_class)->make_path(mounts, url);
  if (!path)
    return path;
  MountsImpl& d = *GMS_MOUNT_POINTS(mounts)->impl;
  GstRTSPContext* ctx = gst_rtsp_context_get_current();
  GstRTSPMethod method = ctx ? ctx->method : GST_RTSP_INVALID;
  std::string name = strip_control(path);
  gms::PathConfig cfg;
  // Held until the factory is mounted: a second request for the same new
  // path (two viewers at once) must find it mounted, not about to be.
  std::lock_guard<std::mutex> g(d.mutex);
  {
    auto it = std::find_if(d.patterns.begin(), d.patterns.end(), [&](const gms::PathConfig& p) {
      return name.size() > p.prefix().size() && name.compare(0, p.prefix().size(), p.prefix()) == 0;
    });
    if (it == d.patterns.end())
      return path;
    // A pattern proxy's path is made for its viewers; a publish pattern's
    // for its publisher (and for viewers that wait for one).
    bool viewer = method == GST_RTSP_DESCRIBE || method == GST_RTSP_SETUP;
    bool wanted = it->is_proxy() ? viewer
                                 : method == GST_RTSP_ANNOUNCE || (it->wait_publisher > 0 && viewer);
    auto& set = d.mounted[it->name];
    if (!wanted || set.count(name))
      return path;
    std::string why;
    if (!gms::check_path_name(name, why) || d.total >= kMaxPatternMounts)
      return path;
    set.insert(name);
    d.total++;
    cfg = *it;
    cfg.name = name;
  }
  auto factory = d.make_factory(cfg);
  gst_rtsp_mount_points_add_factory(mounts, name.c_str(), factory.release());
  if (!cfg.is_proxy())
    GMS_LOG_INFO("path %s: mounted for publishing", name.c_str());
  return path;
}

void mounts_finalize(GObject* object) {
  delete GMS_MOUNT_POINTS(object)->impl;
  G_OBJECT_CLASS(gms_mount_points_parent_class)->finalize(object);
}

}  // namespace

static void gms_mount_points_class_init(GmsMountPointsClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = mounts_finalize;
  GST_RTSP_MOUNT_POINTS_CLASS(klass)->make_path = make_path;
}

static void gms_mount_points_init(GmsMountPoints* self) { self->impl = new MountsImpl(); }

// ---- client hooks ----------------------------------------------------------

namespace gms::mounts {
namespace {

using CtxPtr = PublishContextPtr;

std::string peer_of(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  const char* ip = conn ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip ? ip : "?";
}

GstRTSPStatusCode refuse(GstRTSPClient* client, GstRTSPStatusCode code, const std::string& why) {
  g_object_set_data_full(G_OBJECT(client), kRefusal, g_strdup(why.c_str()), g_free);
  return code;
}

// The publish factory serving `path`, if it is one.
Ref<GstRTSPMediaFactory> publish_factory(GstRTSPClient* client, const char* path) {
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_client_get_mount_points(client));
  if (!mounts || !path)
    return {};
  gint matched = 0;
  auto f = Ref<GstRTSPMediaFactory>::adopt(gst_rtsp_mount_points_match(mounts.get(), path, &matched));
  if (!f || !GMS_IS_PUBLISH_FACTORY(f.get()))
    return {};
  return f;
}

GstRTSPStatusCode pre_announce(GstRTSPClient* client, GstRTSPContext* ctx, gpointer data) noexcept {
  auto& pc = *static_cast<CtxPtr*>(data);
  if (!ctx->media || !g_object_get_data(G_OBJECT(ctx->media), kRecordPath))
    return GST_RTSP_STS_OK;  // not a publish path: the library refuses RECORD
  auto* fimpl = static_cast<RecordInfo*>(g_object_get_data(G_OBJECT(ctx->media), kRecordPath));
  const std::string& path = fimpl->path.name;
  std::string peer = peer_of(client);
  guint8* body = nullptr;
  guint size = 0;
  gst_rtsp_message_get_body(ctx->request, &body, &size);
  AnnounceCheck check = check_announce_body(body, size);
  if (!check.ok) {
    GMS_LOG_WARN("client %s: ANNOUNCE %s refused (%d): %s", peer.c_str(), path.c_str(),
                 check.status, check.reason.c_str());
    return refuse(client, GstRTSPStatusCode(check.status), check.reason);
  }
  auto claim = pc->registry->claim(path, client, peer, check.tracks,
                                   fimpl->path.override_publisher, fimpl->path.publisher_timeout);
  if (claim.result == PathRegistry::Claim::kBusy) {
    GMS_LOG_WARN("client %s: ANNOUNCE %s refused (403): %s", peer.c_str(), path.c_str(),
                 claim.reason.c_str());
    return refuse(client, GST_RTSP_STS_FORBIDDEN, claim.reason);
  }
  if (claim.result == PathRegistry::Claim::kLimit) {
    GMS_LOG_WARN("client %s: ANNOUNCE %s refused (453): %s", peer.c_str(), path.c_str(),
                 claim.reason.c_str());
    return refuse(client, GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH, claim.reason);
  }
  // Its sinks now say what the path's tracks do (a refused publisher's
  // media has sinks too, which must not).
  if (auto bin = Ref<GstElement>::adopt(gst_rtsp_media_get_element(ctx->media));
      bin && GST_IS_BIN(bin.get())) {
    auto traffic = pc->traffic->of(path);
    for (unsigned i = 0; i < check.tracks; ++i) {
      GstBin* b = GST_BIN(bin.get());
      std::string index = std::to_string(i);
      auto tap = Ref<GstElement>::adopt(gst_bin_get_by_name(b, ("depay" + index).c_str()));
      auto sink = Ref<GstElement>::adopt(gst_bin_get_by_name(b, ("relay" + index).c_str()));
      if (!sink)  // no msstats: the sink is depay<i>
        sink = std::move(tap);
      if (tap)
        traffic->tap(i, tap.get());
      if (sink)
        pc->sinks->add(relay_channel(path, i), sink.get());
    }
  }
  guard_publisher_input(ctx->media, path, peer);
  g_object_set_data_full(G_OBJECT(ctx->media), kClaim,
                         new ClaimHolder{pc->registry, path, claim.id},
                         [](gpointer p) { delete static_cast<ClaimHolder*>(p); });
  // The publisher's session ended: the path is free at once (the media may
  // live on a little in the client's cache).
  g_signal_connect_data(ctx->media, "unprepared",
                        G_CALLBACK(+[](GstRTSPMedia* media, gpointer) noexcept {
                          if (auto* c = static_cast<ClaimHolder*>(
                                  g_object_get_data(G_OBJECT(media), kClaim)))
                            c->registry->release(c->path, c->id);
                        }),
                        nullptr, nullptr, GConnectFlags(0));
  GMS_LOG_INFO("client %s: publishing %s (%u track%s)%s", peer.c_str(), path.c_str(),
               check.tracks, check.tracks == 1 ? "" : "s",
               claim.replaced ? ", replacing the previous publisher" : "");
  if (claim.replaced)
    gst_rtsp_client_close(claim.replaced.get());
  return GST_RTSP_STS_OK;
}

void on_record(GstRTSPClient*, GstRTSPContext* ctx, gpointer data) noexcept {
  auto& pc = *static_cast<CtxPtr*>(data);
  if (!ctx->media)
    return;
  if (auto* c = static_cast<ClaimHolder*>(g_object_get_data(G_OBJECT(ctx->media), kClaim)))
    pc->registry->recording(c->path, c->id);
}

// Viewers now: of the configured path `path` (a file root's viewers of
// every file under it), or of every path when empty.
unsigned count_viewers(GstRTSPSessionPool* pool, const std::string& path) {
  unsigned n = 0;
  for_each_viewer(pool, [&](GstRTSPSessionMedia*, GstRTSPMedia* media) {
    const char* p = viewer_path(media);
    if (path.empty() || (p && path == p))
      n++;
  });
  return n;
}

// The factory mounted for `path` now (any kind; files are mounted on demand
// before this runs).
Ref<GstRTSPMediaFactory> mounted_factory(GstRTSPClient* client, const char* path) {
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_client_get_mount_points(client));
  if (!mounts || !path)
    return {};
  gint matched = 0;
  return Ref<GstRTSPMediaFactory>::adopt(gst_rtsp_mount_points_match(mounts.get(), path, &matched));
}

bool is_record_setup(GstRTSPContext* ctx) {
  gchar* transport = nullptr;
  if (gst_rtsp_message_get_header(ctx->request, GST_RTSP_HDR_TRANSPORT, &transport, 0) !=
      GST_RTSP_OK)
    return false;
  GCharPtr lower(g_ascii_strdown(transport, -1));
  return strstr(lower.get(), "mode=record") || strstr(lower.get(), "mode=\"record\"");
}

// The path's publisher has sent packets (with caps) on every track.
bool streaming(const PublishContext& ctx, const std::string& path) {
  unsigned n = ctx.registry->tracks(path);
  if (n == 0)
    return false;
  for (unsigned i = 0; i < n; ++i) {
    auto f = ctx.sinks->figures(relay_channel(path, i));
    if (!f || !f->caps || f->packets == 0)
      return false;
  }
  return true;
}

// On an RTSP client thread (the pool has several): a bounded wait.
bool wait_streaming(const PublishContext& ctx, const std::string& path, unsigned timeout_ms) {
  PathRegistry& registry = *ctx.registry;
  gint64 end = g_get_monotonic_time() + gint64(timeout_ms) * 1000;
  while (!streaming(ctx, path)) {
    gint64 left = end - g_get_monotonic_time();
    if (left <= 0)
      return false;
    // Both waits are woken (a publisher's claim, a sink's first packet);
    // their bound only re-checks the deadline.
    unsigned ms = static_cast<unsigned>(std::min<gint64>(left / 1000 + 1, 200));
    if (!registry.has_publisher(path))
      registry.wait_publisher(path, ms);
    else
      ctx.sinks->wait_first_packet(std::chrono::milliseconds(ms));
  }
  return true;
}

// DESCRIBE, or SETUP that starts a new viewer.
GstRTSPStatusCode check_viewer(GstRTSPClient* client, GstRTSPContext* ctx, const CtxPtr& pc,
                               bool setup) {
  if (!ctx->uri)
    return GST_RTSP_STS_OK;
  std::string path = strip_control(ctx->uri->abspath);
  if (setup) {
    if (is_record_setup(ctx))
      return GST_RTSP_STS_OK;
    gint matched = 0;
    if (ctx->session) {
      auto sm = Ref<GstRTSPSessionMedia>::borrow(
          gst_rtsp_session_get_media(ctx->session, ctx->uri->abspath, &matched));
      if (sm)
        return GST_RTSP_STS_OK;  // another track of the same viewer
    }
  }
  std::string peer = peer_of(client);
  auto factory = publish_factory(client, path.c_str());
  if (factory) {
    FactoryImpl& d = *GMS_PUBLISH_FACTORY(factory.get())->impl;
    if (!streaming(*pc, d.path.name)) {
      // Waiting blocks this client thread, and every connection it serves:
      // a TCP publisher on the same thread cannot deliver its packets
      // meanwhile. So only wait when configured, and a
      // publisher that has announced but sent nothing yet counts as absent.
      unsigned wait_ms = d.path.wait_publisher * 1000;
      bool came = wait_ms > 0 && wait_streaming(*pc, d.path.name, wait_ms);
      if (!came) {
        GMS_LOG_INFO("client %s: %s %s: 404, no publisher", peer.c_str(),
                     setup ? "SETUP" : "DESCRIBE", d.path.name.c_str());
        return refuse(client, GST_RTSP_STS_NOT_FOUND, "no publisher on " + d.path.name);
      }
    }
  }
  // Every kind of path: its own max-viewers (a file root's for all its files).
  if (auto f = setup ? mounted_factory(client, path.c_str()) : Ref<GstRTSPMediaFactory>(); f) {
    ViewerLimit limit = viewer_limit(f.get());
    if (limit.max_viewers > 0 &&
        count_viewers(pc->sessions.get(), limit.counted_as) >= limit.max_viewers) {
      std::string why = "max-viewers (" + std::to_string(limit.max_viewers) + ") reached on " +
                        limit.counted_as;
      GMS_LOG_WARN("client %s: SETUP refused (453): %s", peer.c_str(), why.c_str());
      return refuse(client, GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH, why);
    }
  }
  unsigned max = pc->max_viewers;
  if (setup && max > 0 && count_viewers(pc->sessions.get(), {}) >= max) {
    std::string why = "server max-viewers (" + std::to_string(max) + ") reached";
    GMS_LOG_WARN("client %s: SETUP refused (453): %s", peer.c_str(), why.c_str());
    return refuse(client, GST_RTSP_STS_NOT_ENOUGH_BANDWIDTH, why);
  }
  return GST_RTSP_STS_OK;
}

GstRTSPStatusCode pre_describe(GstRTSPClient* client, GstRTSPContext* ctx, gpointer data) noexcept {
  return check_viewer(client, ctx, *static_cast<CtxPtr*>(data), false);
}

GstRTSPStatusCode pre_setup(GstRTSPClient* client, GstRTSPContext* ctx, gpointer data) noexcept {
  return check_viewer(client, ctx, *static_cast<CtxPtr*>(data), true);
}

void prepare_injection(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg);

// Puts the refusal's reason into the status line: "453 Not Enough
// Bandwidth (max-viewers (2) reached on /live/a)".
void on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg,
                     gpointer) noexcept {
  if (msg->type != GST_RTSP_MESSAGE_RESPONSE)
    return;
  if (ctx && ctx->method == GST_RTSP_PLAY && msg->type_data.response.code == GST_RTSP_STS_OK &&
      g_object_get_data(G_OBJECT(client), kLateJoin)) {
    g_object_set_data(G_OBJECT(client), kLateJoin, nullptr);
    prepare_injection(client, ctx, msg);
  }
  // A PLAY that failed after its holds (or a reply that took none): the
  // library did not add the viewer, nothing is given back.
  if (ctx && ctx->method == GST_RTSP_PLAY) {
    g_object_set_data(G_OBJECT(client), kHeld, nullptr);
    g_object_set_data(G_OBJECT(client), kTcpHeld, nullptr);
  }
  // A 503 (a source that is starting, retrying or failed to start) says
  // when to ask again, instead of leaving the client to guess or give up.
  if (msg->type_data.response.code == GST_RTSP_STS_SERVICE_UNAVAILABLE) {
    gchar* after = nullptr;
    if (gst_rtsp_message_get_header(msg, GST_RTSP_HDR_RETRY_AFTER, &after, 0) != GST_RTSP_OK)
      gst_rtsp_message_add_header(msg, GST_RTSP_HDR_RETRY_AFTER, kRetryAfter);
  }
  auto* why = static_cast<const char*>(g_object_get_data(G_OBJECT(client), kRefusal));
  if (!why)
    return;
  if (msg->type_data.response.code >= 400) {
    gchar* reason = g_strdup_printf("%s (%s)", gst_rtsp_status_as_text(msg->type_data.response.code),
                                    why);
    g_free(msg->type_data.response.reason);
    msg->type_data.response.reason = reason;
  }
  g_object_set_data(G_OBJECT(client), kRefusal, nullptr);
}

// ---- instant start for viewers joining a running media -------------------
//
// The first viewer of a media starts at the cached key frame (msrelaysrc
// reads the channel's GOP cache). A viewer joining later shares a media
// that is already past it: it gets the packets msrelaysrc output since its
// last key frame, sent to it alone right after the PLAY reply, and an
// RTP-Info that starts at the first of them (GStreamer receivers drop
// packets before RTP-Info's seq).

// A UDP joiner kept out of a stream's sink until its GOP is out (sink_tap.h).
struct Held {
  Ref<GstElement> sink;
  std::shared_ptr<SinkTap> tap;
  std::shared_ptr<TapWaiter> waiter;
  Ref<GSocket> socket;  // the stream's RTP socket, which the sink sends from
  Ref<GSocketAddress> dest;
};

struct InjectedStream {
  unsigned index = 0;
  std::vector<Ref<GstBuffer>> packets;  // the cached GOP, cut where the stream takes over
  session::RtpMark first;               // the first packet the viewer gets, for RTP-Info
  std::unique_ptr<TcpJoinGate> gate;    // a TCP stream's, opened once its GOP is handed over
};

struct Injection {
  std::vector<InjectedStream> streams;
  std::map<unsigned, Held> held;  // index → the UDP joiner held out of its sink
};


// The pipeline an element is in.
Ref<GstElement> top_pipeline(GstElement* element) {
  if (!element)
    return {};
  auto top = Ref<GstObject>::borrow(GST_OBJECT(element));
  while (auto parent = Ref<GstObject>::adopt(gst_object_get_parent(top.get())))
    top = std::move(parent);
  return GST_IS_ELEMENT(top.get()) ? Ref<GstElement>::adopt(GST_ELEMENT(top.release()))
                                   : Ref<GstElement>();
}

// Keeps a UDP joiner of stream `index` out of the stream's sink from now on
// (before the library adds it, after this reply); nothing for another
// transport.
std::optional<Held> hold_udp_joiner(GstRTSPContext* ctx, guint index, GstElement* reader) {
  GstRTSPStreamTransport* trans = gst_rtsp_session_media_get_transport(ctx->sessmedia, index);
  const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
  if (!t || t->lower_transport != GST_RTSP_LOWER_TRANS_UDP || !t->destination ||
      t->client_port.min <= 0)
    return std::nullopt;
  auto addr = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(t->destination));
  if (!addr)
    return std::nullopt;
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(trans);
  Held h;
  h.socket = Ref<GSocket>::adopt(
      gst_rtsp_stream_get_rtp_socket(stream, g_inet_address_get_family(addr.get())));
  auto pipeline = top_pipeline(reader);
  h.sink = SinkTap::rtp_sink(pipeline.get(), h.socket.get());
  // The first UDP viewer of a media that so far had only TCP viewers: the
  // library makes the stream's UDP sink when it completes the pipeline for
  // this PLAY, after this hook, and would add the viewer to it at once
  // (live packets first, the key frame after them). Completing the stream
  // here makes the sink now; the library's own completion finds it made.
  if (h.socket && !h.sink && gst_rtsp_stream_complete_stream(stream, t))
    h.sink = SinkTap::rtp_sink(pipeline.get(), h.socket.get());
  if (!h.socket || !h.sink) {
    GMS_LOG_WARN("relay: no RTP sink found for a joiner's stream; its key frame is not sent");
    return std::nullopt;
  }
  h.dest = Ref<GSocketAddress>::adopt(
      g_inet_socket_address_new(addr.get(), static_cast<guint16>(t->client_port.min)));
  h.tap = SinkTap::of(h.sink.get());
  h.waiter = h.tap->hold(t->destination, t->client_port.min);
  return h;
}

using HeldSet = std::map<unsigned, Held>;  // stream index → its held UDP joiner

// Ends the holds that no replay will take over: given back to the sink
// (nothing to replay), or forgotten (the PLAY failed).
void end_holds(HeldSet& held, bool give_back) {
  for (auto& [index, h] : held) {
    if (give_back)
      h.tap->release(*h.waiter);
    else
      h.tap->cancel(*h.waiter);
  }
  held.clear();
}

// A TCP joiner's stream closed to new packets (tcp_join_gate.h) from its
// pre-play, before the library adds it to the stream, to the hand-over of
// its GOP; `cut` is the first packet the stream will give it (none known:
// the whole GOP is sent).
struct TcpHold {
  std::unique_ptr<TcpJoinGate> gate;
  std::optional<session::RtpMark> cut;
  uint64_t entered = 0;  // the appsink's count when the gate closed
};
using TcpHoldSet = std::map<unsigned, TcpHold>;  // stream index → its hold

// Null when the stream's appsink is too slow to be closed; the joiner may
// then get a packet twice.
std::optional<TcpHold> hold_tcp_joiner(GstRTSPContext* ctx, guint index) {
  using std::chrono::milliseconds;
  GstRTSPStreamTransport* trans = gst_rtsp_session_media_get_transport(ctx->sessmedia, index);
  const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
  if (!t || t->lower_transport != GST_RTSP_LOWER_TRANS_TCP ||
      (t->profile & (GST_RTSP_PROFILE_SAVP | GST_RTSP_PROFILE_SAVPF)))
    return std::nullopt;
  GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(trans);
  Ref<GstPad> pad = session::tcp_appsink_pad(stream);
  // The stream's first TCP viewer: the library makes its appsink when it
  // completes the pipeline for this PLAY, and adds the viewer at once.
  // Made here, it is closed before any packet reaches it.
  if (!pad && gst_rtsp_stream_complete_stream(stream, t))
    pad = session::tcp_appsink_pad(stream);
  TcpHold h;
  auto count = [&] { h.entered = session::tcp_entered(stream).value_or(0); };
  h.gate = pad ? TcpJoinGate::close(pad.get(), milliseconds(20), count) : nullptr;
  if (!h.gate)
    return std::nullopt;
  h.cut = h.gate->first_held(milliseconds(0));
  if (!h.cut) {
    if (auto last = session::tcp_last_entered(stream))
      h.cut = session::RtpMark{uint16_t(last->seq + 1), last->rtptime};
    else  // a new appsink: its first packet is on its way
      h.cut = h.gate->first_held(milliseconds(100));
  }
  return h;
}

// Before the library adds a late joiner to the streams' sinks: its UDP
// streams are held out of them (sink_tap.h) until its replay is done.
GstRTSPStatusCode pre_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  GstRTSPMedia* media = ctx->sessmedia ? gst_rtsp_session_media_get_media(ctx->sessmedia) : nullptr;
  bool late = media && g_object_get_data(G_OBJECT(media), kPlayPath) && joins_running_media(media);
  g_object_set_data(G_OBJECT(client), kLateJoin, late ? GINT_TO_POINTER(1) : nullptr);
  g_object_set_data(G_OBJECT(client), kHeld, nullptr);
  g_object_set_data(G_OBJECT(client), kTcpHeld, nullptr);
  auto element = late ? Ref<GstElement>::adopt(gst_rtsp_media_get_element(media)) : Ref<GstElement>();
  if (!element || !GST_IS_BIN(element.get()))
    return GST_RTSP_STS_OK;
  auto held = std::make_unique<HeldSet>();
  auto tcp_held = std::make_unique<TcpHoldSet>();
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    std::string name = "pay" + std::to_string(i);
    auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(element.get()), name.c_str()));
    if (!pay || !g_signal_lookup("get-gop", G_OBJECT_TYPE(pay.get())))
      continue;
    if (auto h = hold_udp_joiner(ctx, i, pay.get()))
      (*held)[i] = std::move(*h);
    else if (auto t = hold_tcp_joiner(ctx, i))
      (*tcp_held)[i] = std::move(*t);
  }
  if (!tcp_held->empty()) {
    // Counted from their gates: what enters the appsinks from there on
    // is theirs (the library adds them right after this hook).
    for (const auto& [index, h] : *tcp_held)
      session::tcp_transport_playing_from(
          gst_rtsp_session_media_get_transport(ctx->sessmedia, index), h.entered);
    g_object_set_data_full(G_OBJECT(client), kTcpHeld, tcp_held.release(),
                           [](gpointer p) { delete static_cast<TcpHoldSet*>(p); });
  }
  if (!held->empty())
    g_object_set_data_full(G_OBJECT(client), kHeld, held.release(), [](gpointer p) {
      auto* h = static_cast<HeldSet*>(p);
      end_holds(*h, false);
      delete h;
    });
  return GST_RTSP_STS_OK;
}

// "url=…/stream=0;seq=1;rtptime=2,url=…" with the seq/rtptime of the
// streams that get a GOP replaced by the first packet the viewer gets.
std::string rewrite_rtp_info(const std::string& header, const Injection& inj) {
  std::string out;
  GStrvPtr entries(g_strsplit(header.c_str(), ",", -1));
  for (gchar** e = entries.get(); *e; ++e) {
    std::string entry = *e;
    for (const InjectedStream& st : inj.streams) {
      std::string control = "stream=" + std::to_string(st.index) + ";";
      if (entry.find(control) == std::string::npos)
        continue;
      std::string url = entry.substr(0, entry.find(';'));
      entry = url + ";seq=" + std::to_string(st.first.seq) +
              ";rtptime=" + std::to_string(st.first.rtptime);
    }
    out += (out.empty() ? "" : ",") + entry;
  }
  return out;
}

// Whether stream `index` of a session is SRTP (RTP/SAVP, RTP/SAVPF): its
// packets are encrypted by the media's RTP session, after the relay reader
// whose cached GOP a joiner would get; sent as they are, they reach the
// viewer's decryptor unprotected (rtspsrc: "Internal data stream error").
// Such a joiner starts at the next key frame.
bool srtp_stream(GstRTSPSessionMedia* sessmedia, guint index) {
  GstRTSPStreamTransport* trans = gst_rtsp_session_media_get_transport(sessmedia, index);
  const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
  return t && (t->profile & (GST_RTSP_PROFILE_SAVP | GST_RTSP_PROFILE_SAVPF));
}

// Whether stream `index` of a session goes over the RTSP connection.
bool over_tcp(GstRTSPSessionMedia* sessmedia, guint index) {
  GstRTSPStreamTransport* trans = gst_rtsp_session_media_get_transport(sessmedia, index);
  const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
  return t && t->lower_transport == GST_RTSP_LOWER_TRANS_TCP;
}

// The relay reader's cached GOP, up to the packet before `cut` if given.
std::vector<Ref<GstBuffer>> cached_gop(GstElement* pay, const std::optional<session::RtpMark>& cut) {
  std::vector<Ref<GstBuffer>> gop;
  GstBufferList* list = nullptr;
  g_signal_emit_by_name(pay, "get-gop", &list);
  if (!list)
    return gop;
  for (guint j = 0; j < gst_buffer_list_length(list); ++j) {
    GstBuffer* packet = gst_buffer_list_get(list, j);
    auto mark = cut ? session::rtp_mark(packet) : std::nullopt;
    if (mark && int16_t(uint16_t(mark->seq - cut->seq)) >= 0)
      break;  // the stream gives it this packet and what follows
    gop.push_back(Ref<GstBuffer>::borrow(packet));
  }
  gst_buffer_list_unref(list);
  return gop;
}

void prepare_injection(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* msg) {
  // The holds of pre-play: taken over by the replays, or given back.
  std::unique_ptr<HeldSet> held(static_cast<HeldSet*>(g_object_steal_data(G_OBJECT(client), kHeld)));
  if (!held)
    held = std::make_unique<HeldSet>();
  // Opened when this ends, but for those the replays take over.
  std::unique_ptr<TcpHoldSet> tcp_held(
      static_cast<TcpHoldSet*>(g_object_steal_data(G_OBJECT(client), kTcpHeld)));
  if (!tcp_held)
    tcp_held = std::make_unique<TcpHoldSet>();
  GstRTSPMedia* media = ctx->media;
  auto element = media ? Ref<GstElement>::adopt(gst_rtsp_media_get_element(media)) : Ref<GstElement>();
  if (!ctx->sessmedia || !element || !GST_IS_BIN(element.get())) {
    end_holds(*held, true);
    return;
  }
  auto inj = std::make_unique<Injection>();
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    std::string name = "pay" + std::to_string(i);
    auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(element.get()), name.c_str()));
    if (!pay || !g_signal_lookup("get-gop", G_OBJECT_TYPE(pay.get())) ||
        srtp_stream(ctx->sessmedia, i))
      continue;
    InjectedStream st;
    st.index = i;
    std::optional<session::RtpMark> cut;
    const bool tcp = over_tcp(ctx->sessmedia, i);
    if (auto h = tcp_held->find(i); h != tcp_held->end()) {
      st.gate = std::move(h->second.gate);
      cut = h->second.cut;
    }
    st.packets = cached_gop(pay.get(), cut);
    auto first = st.packets.empty() ? cut : session::rtp_mark(st.packets.front().get());
    if (!first)
      continue;
    st.first = *first;
    // A held UDP joiner gets this GOP, then what its sink rendered since
    // the hold (collected by the tap): nothing falls in between.
    if (auto h = held->find(i); h != held->end()) {
      inj->held[i] = std::move(h->second);
      held->erase(h);
    } else if (!tcp) {
      continue;  // sent to no one: RTP-Info must not name its first packet
    }
    inj->streams.push_back(std::move(st));
  }
  end_holds(*held, true);  // nothing to replay: the sink sends from now on
  if (inj->streams.empty())
    return;
  gchar* info = nullptr;
  if (gst_rtsp_message_get_header(msg, GST_RTSP_HDR_RTP_INFO, &info, 0) == GST_RTSP_OK && info) {
    std::string rewritten = rewrite_rtp_info(info, *inj);
    gst_rtsp_message_remove_header(msg, GST_RTSP_HDR_RTP_INFO, -1);
    gst_rtsp_message_add_header(msg, GST_RTSP_HDR_RTP_INFO, rewritten.c_str());
  }
  g_object_set_data_full(G_OBJECT(client), kInject, inj.release(),
                         [](gpointer p) { delete static_cast<Injection*>(p); });
}

// Hands the GOP to the replay thread: a GOP is hundreds of packets, and this
// runs with the shared media locked (see gop_replay.h). play-request: the
// library has tried to add the viewer to the sink, and the hold kept it out.
void send_udp(GstRTSPStreamTransport* trans, const std::vector<Ref<GstBuffer>>& packets,
              Held& held) {
  GopReplayer::instance().add(GopReplayJob{Ref<GstRTSPStreamTransport>::borrow(trans),
                                           held.socket, held.dest, packets, held.sink, held.tap,
                                           held.waiter});
}

void inject(GstRTSPClient* client, GstRTSPContext* ctx) {
  auto* inj = static_cast<Injection*>(g_object_get_data(G_OBJECT(client), kInject));
  if (!inj || !ctx->sessmedia)
    return;
  for (InjectedStream& st : inj->streams) {
    const auto& packets = st.packets;
    const unsigned index = st.index;
    GstRTSPStreamTransport* trans = gst_rtsp_session_media_get_transport(ctx->sessmedia, index);
    if (!trans)
      continue;
    const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(trans);
    if (t->lower_transport == GST_RTSP_LOWER_TRANS_TCP && packets.empty()) {
      if (st.gate)  // the stream gives it everything, from the cut
        st.gate->open();
    } else if (t->lower_transport == GST_RTSP_LOWER_TRANS_TCP) {
      GstBufferList* list = gst_buffer_list_new_sized(static_cast<guint>(packets.size()));
      for (const auto& p : packets)
        gst_buffer_list_add(list, gst_buffer_ref(p.get()));
      if (!gst_rtsp_stream_transport_send_rtp_list(trans, list))
        GMS_LOG_WARN("client %s: could not send the cached key frame (%zu packets)",
                     peer_of(client).c_str(), packets.size());
      else  // its bytes are in the connection's count already
        session::add_sent_beside_sinks(trans, 0, packets.size());
      gst_buffer_list_unref(list);
      if (st.gate)  // the GOP is in the connection's queue, ahead of the stream's packets
        st.gate->open();
    } else if (auto held = inj->held.find(index); held != inj->held.end()) {
      send_udp(trans, packets, held->second);
    }
    // Multicast: the group shares one stream; nothing per viewer.
  }
  g_object_set_data(G_OBJECT(client), kInject, nullptr);
}

// gst-rtsp-server 1.22 ties RTCP sender-report timestamps to rate control
// (without it a client is taken to pace a replay itself): its reports then
// carry NTP and RTP time 0, which clients read as a leap of hours in their
// timeline and cannot sync tracks with. A relay sends live: keep them.
void keep_sender_report_times(GstRTSPMedia* media) {
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
    GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i);
    auto session = Ref<GObject>::adopt(stream ? gst_rtsp_stream_get_rtpsession(stream) : nullptr);
    if (session)
      g_object_set(session.get(), "disable-sr-timestamp", FALSE, nullptr);
  }
}

void on_play(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  inject(client, ctx);
  // Send as soon as packets arrive: the server's sinks would otherwise wait
  // for each packet's time plus their 20 ms processing deadline
  // (at most 50 packets/s). setup_play_mode turns rate control on at every PLAY.
  GstRTSPMedia* media = ctx->media;
  if (media && g_object_get_data(G_OBJECT(media), kPlayPath)) {
    gst_rtsp_media_set_rate_control(media, FALSE);
    keep_sender_report_times(media);
  }
}


}  // namespace

bool joins_running_media(GstRTSPMedia* media) {
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = element ? Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())))
                          : Ref<GstObject>();
  GstState state = GST_STATE_NULL;
  if (pipeline && GST_IS_ELEMENT(pipeline.get()))
    gst_element_get_state(GST_ELEMENT(pipeline.get()), &state, nullptr, 0);
  if (state != GST_STATE_PLAYING)
    return false;
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i)
    if (gst_rtsp_stream_is_blocking(gst_rtsp_media_get_stream(media, i)))
      return false;
  return true;
}

void set_refusal_reason(GstRTSPClient* client, const std::string& why) { refuse(client, {}, why); }

Ref<GstRTSPMediaFactory> make_publish_factory(const PathConfig& path, const PublishContextPtr& ctx,
                                              GstRTSPAddressPool* pool) {
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_PUBLISH_FACTORY, nullptr)));
  FactoryImpl& d = *GMS_PUBLISH_FACTORY(factory.get())->impl;
  d.path = path;
  d.ctx = ctx;
  PathConfig settings = path;
  settings.shared = true;
  // The jitterbuffer of the publisher's media: packets pass at once unless
  // `latency` asks for reordering time (what it holds is lost when the
  // publisher tears down).
  if (!settings.latency_ms)
    settings.latency_ms = 0;
  apply_media_settings(factory.get(), settings, pool);
  gst_rtsp_media_factory_set_transport_mode(
      factory.get(),
      GstRTSPTransportMode(GST_RTSP_TRANSPORT_MODE_PLAY | GST_RTSP_TRANSPORT_MODE_RECORD));
  // A publisher that disappears must free the path (and stop its pipeline)
  // even when it used UDP only.
  gst_rtsp_media_factory_set_stop_on_disconnect(factory.get(), TRUE);
  return factory;
}

Ref<GstRTSPMountPoints> make_mount_points(
    std::function<Ref<GstRTSPMediaFactory>(const PathConfig&)> make_factory) {
  auto mounts = Ref<GstRTSPMountPoints>::adopt(
      GST_RTSP_MOUNT_POINTS(g_object_new(GMS_TYPE_MOUNT_POINTS, nullptr)));
  GMS_MOUNT_POINTS(mounts.get())->impl->make_factory = std::move(make_factory);
  return mounts;
}

void set_publish_patterns(GstRTSPMountPoints* mounts, std::vector<PathConfig> patterns) {
  MountsImpl& d = *GMS_MOUNT_POINTS(mounts)->impl;
  std::lock_guard<std::mutex> g(d.mutex);
  // Longest prefix first, so "/live/hd/*" wins over "/live/*".
  std::sort(patterns.begin(), patterns.end(), [](const PathConfig& a, const PathConfig& b) {
    return a.prefix().size() > b.prefix().size();
  });
  d.patterns = std::move(patterns);
}

std::vector<std::string> pattern_mounts(GstRTSPMountPoints* mounts, const std::string& pattern) {
  MountsImpl& d = *GMS_MOUNT_POINTS(mounts)->impl;
  std::lock_guard<std::mutex> g(d.mutex);
  auto it = d.mounted.find(pattern);
  if (it == d.mounted.end())
    return {};
  std::vector<std::string> out(it->second.begin(), it->second.end());
  d.total -= it->second.size();
  d.mounted.erase(it);
  return out;
}

bool retire_pattern_mount(GstRTSPMountPoints* mounts, const std::string& pattern,
                          const std::string& path, const std::function<bool()>& idle) {
  MountsImpl& d = *GMS_MOUNT_POINTS(mounts)->impl;
  // Under the lock that make_path() takes: a request for the path either
  // finds it still mounted (and in use: not idle) or mounts it afresh.
  std::lock_guard<std::mutex> g(d.mutex);
  if (!idle())
    return false;
  auto it = d.mounted.find(pattern);
  if (it != d.mounted.end() && it->second.erase(path)) {
    d.total--;
    gst_rtsp_mount_points_remove_factory(mounts, path.c_str());
  }
  return true;
}

void mark_relay_play_media(GstRTSPMedia* media, const std::string& path) {
  g_object_set_data_full(G_OBJECT(media), kPlayPath, g_strdup(path.c_str()), g_free);
  // The relay's packets are stamped when they leave msrelaysrc; a sink
  // that syncs waits its 20 ms processing deadline on every packet of the
  // one streaming thread, i.e. at most 50 packets/s (measured). Packets
  // are due at once: send them without syncing.
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto pipeline = element ? Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())))
                          : Ref<GstObject>();
  if (pipeline && GST_IS_BIN(pipeline.get()))
    g_signal_connect(pipeline.get(), "deep-element-added",
                     G_CALLBACK(+[](GstBin*, GstBin*, GstElement* e, gpointer) noexcept {
                       GstElementFactory* f = gst_element_get_factory(e);
                       if (!f)
                         return;
                       const char* name = GST_OBJECT_NAME(f);
                       if (g_str_equal(name, "multiudpsink") || g_str_equal(name, "udpsink"))
                         g_object_set(e, "sync", FALSE, nullptr);
                       // gst-rtsp-server turns the TCP appsink's sync back on
                       // at every PLAY (setup_play_mode: rate control); until
                       // play-request turns it off again, all TCP viewers were
                       // held to 20 ms per packet list and lost packets while
                       // others joined (measured: ~25 % with 1000 viewers and
                       // 5 joins/s). Keep it off.
                       // Nor may it preroll: added while a PLAY takes the
                       // pipeline to PLAYING, an async appsink was found
                       // "busy" by the bin, stayed PAUSED holding its first
                       // packet, and the track never reached a viewer again
                       // (the intermittent "no audio" of two viewers joining
                       // at once). A live relay has nothing to preroll.
                       if (g_str_equal(name, "appsink")) {
                         g_object_set(e, "sync", FALSE, "async", FALSE, nullptr);
                         g_signal_connect(e, "notify::sync",
                                          G_CALLBACK(+[](GObject* o, GParamSpec*, gpointer) noexcept {
                                            gboolean sync = FALSE;
                                            g_object_get(o, "sync", &sync, nullptr);
                                            if (sync)
                                              g_object_set(o, "sync", FALSE, nullptr);
                                          }),
                                          nullptr);
                       }
                       // The stream's queues before its UDP and TCP sinks:
                       // when every TCP viewer is stuck, gst-rtsp-server
                       // stops pulling its appsink;
                       // a leaky queue loses those packets instead of
                       // stalling the tee and with it the UDP viewers.
                       if (g_str_equal(name, "queue"))
                         configure_relay_queue(e);
                     }),
                     nullptr);
}

void add_publish_hooks(ClientSignals& signals, const PublishContextPtr& ctx) {
  // TCP_NODELAY is set on every connection by the FrontDoor.
  auto* pc = new CtxPtr(ctx);  // the table frees it
  signals.connect("pre-announce-request", G_CALLBACK(pre_announce), pc,
                  [](gpointer p) { delete static_cast<CtxPtr*>(p); });
  signals.connect("record-request", G_CALLBACK(on_record), pc);
  signals.connect("pre-describe-request", G_CALLBACK(pre_describe), pc);
  signals.connect("pre-setup-request", G_CALLBACK(pre_setup), pc);
  signals.connect("pre-play-request", G_CALLBACK(pre_play), pc);
  signals.connect("play-request", G_CALLBACK(on_play), pc);
  signals.connect("send-message", G_CALLBACK(on_send_message), pc);
}

void check_idle_publishers(PublishContext& ctx) {
  // A publisher whose packets came since about the last check (this runs
  // every second) is alive: its session is kept, as a request would.
  constexpr gint64 kAliveUs = 1500 * 1000;
  gint64 now = g_get_monotonic_time();
  for (const auto& a : ctx.registry->active()) {
    if (a.recording_since_us == 0)
      continue;
    gint64 last = a.recording_since_us;
    for (unsigned i = 0; i < a.tracks; ++i)
      if (auto f = ctx.sinks->figures(relay_channel(a.path, i)))
        last = std::max(last, f->last_data_us);
    if (now - last > gint64(a.idle_timeout_s) * G_USEC_PER_SEC)
      ctx.registry->kick(a.path, a.id,
                         "sent nothing for " + std::to_string(a.idle_timeout_s) + " s (" +
                             a.peer + ")");
    else if (now - last < kAliveUs && a.client)
      session::touch_record_sessions(a.client.get());
  }
}

}  // namespace gms::mounts
