#include "mounts/media_setup.h"

#include <gst/rtsp-server/rtsp-address-pool.h>

#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/log.h"
#include "core/tls_client.h"
#include "gms/ref.h"
#include "mounts/rtcp_guard.h"

namespace gms::mounts {
namespace {

const char kGeneration[] = "gms-media-generation";

// The generations of a factory's shared-media keys. A key moves on when the
// media cached under it starts to unprepare, and only then: one counter per
// request path, so that the end of another path's media (a SETUP without
// DESCRIBE names "/a/stream=0", a media of its own) leaves the running
// media of "/a" where new viewers find it. With one counter for the
// factory, such an end hid the running media from every later DESCRIBE:
// each made a media of its own, which lived as long as its one client, and
// the churn of those short medias met the library's race below (503).
struct KeyTable {
  std::mutex lock;  // a leaf: protects epoch and per_path
  uint64_t epoch = 0;  // renew_shared_media(): every path at once
  std::map<std::string, uint64_t> per_path;  // only paths whose media ended

  std::string key(const char* abspath) {
    std::lock_guard<std::mutex> g(lock);
    auto it = per_path.find(abspath);
    return std::string(abspath) + "#" + std::to_string(epoch) + "." +
           std::to_string(it == per_path.end() ? 0 : it->second);
  }
  // The media cached under `key` started to unprepare: the next viewer of
  // its path gets a new media. A media cached under an older key (already
  // replaced) changes nothing.
  void ended(const std::string& key) {
    std::lock_guard<std::mutex> g(lock);
    auto hash = key.rfind('#');
    if (hash == std::string::npos)
      return;
    std::string abspath = key.substr(0, hash);
    auto it = per_path.find(abspath);
    std::string current = abspath + "#" + std::to_string(epoch) + "." +
                          std::to_string(it == per_path.end() ? 0 : it->second);
    if (key != current)
      return;
    // Bounded: every path a client named could otherwise stay here.
    if (it == per_path.end() && per_path.size() >= kMaxPaths) {
      per_path.clear();
      epoch++;
      return;
    }
    per_path[abspath]++;
  }
  static constexpr size_t kMaxPaths = 1024;
};
using Generation = std::shared_ptr<KeyTable>;

Generation generation_of(GstRTSPMediaFactory* factory) {
  auto* g = static_cast<Generation*>(g_object_get_data(G_OBJECT(factory), kGeneration));
  return g ? *g : nullptr;
}

// gen_key and media-configure run in one gst_rtsp_media_factory_construct()
// call on one client thread: the key of the media being configured.
thread_local struct {
  GstRTSPMediaFactory* factory = nullptr;
  std::string key;
} last_key;

struct MediaKey {
  Generation table;
  std::string key;
};

// Emitted with the media's state lock held; only moves a counter on.
void on_target_state(GstRTSPMedia*, gint state, gpointer data) noexcept {
  auto* mk = static_cast<MediaKey*>(data);
  if (state == GST_STATE_NULL)
    mk->table->ended(mk->key);
}

// Emitted from the streaming thread that raised the error: log only.
void on_sync_error(GstBus*, GstMessage* msg, gpointer path) noexcept {
  GErrorPtr err;
  gchar* dbg = nullptr;
  gst_message_parse_error(msg, out(err), &dbg);
  GCharPtr debug(dbg);
  GCharPtr src(gst_object_get_path_string(GST_MESSAGE_SRC(msg)));
  // A streaming thread's error says why it stopped ("reason not-linked
  // (-1)") in its debug text only: that part goes on the line.
  std::string reason;
  if (const char* r = debug ? strstr(debug.get(), "reason ") : nullptr) {
    size_t len = strcspn(r, ")\n");
    reason = " (" + std::string(r, len + (r[len] == ')' ? 1 : 0)) + ")";
  }
  GMS_LOG_WARN("path %s: pipeline error from %s: %s%s", static_cast<const char*>(path),
               src.get(), err ? err->message : "?", reason.c_str());
  GMS_LOG_DEBUG("path %s: %s", static_cast<const char*>(path), debug ? debug.get() : "");
}

void watch_unprepare(GstRTSPMediaFactory* factory, GstRTSPMedia* media) {
  Generation gen = generation_of(factory);
  const bool mine = last_key.factory == factory;
  last_key.factory = nullptr;
  // Only a shared media is cached under its key.
  if (!gen || !mine || !gst_rtsp_media_is_shared(media))
    return;
  g_signal_connect_data(media, "target-state", G_CALLBACK(on_target_state),
                        new MediaKey{gen, last_key.key},
                        [](gpointer p, GClosure*) { delete static_cast<MediaKey*>(p); },
                        GConnectFlags(0));
}

// A shared media is running when later viewers join: gst-rtsp-server 1.22
// then plugs their sink into the stream's tee and sets its state after. An
// async sink prerolls, the bin finds it busy while a PLAY takes the
// pipeline to PLAYING, and it can stay PAUSED holding its first packet:
// that viewer (and, for the one TCP appsink, every TCP viewer) never gets
// the track (seen with a looping file's second viewer and with relayed
// audio). The library prerolls a media by its own pad blocks, not by these
// sinks, so they need not preroll.
void on_shared_element_added(GstBin*, GstBin*, GstElement* element, gpointer) noexcept {
  GstElementFactory* f = gst_element_get_factory(element);
  if (!f)
    return;
  const char* name = GST_OBJECT_NAME(f);
  if (g_str_equal(name, "appsink") || g_str_equal(name, "multiudpsink"))
    g_object_set(element, "async", FALSE, nullptr);
}

const char kViewerLimit[] = "gms-viewer-limit";  // on factories: a ViewerLimit
const char kViewerPath[] = "gms-viewer-path";    // on medias: the limit's path name
const char kViewers[] = "gms-viewers";            // on medias: a ViewerCount
using ViewerCount = std::shared_ptr<std::atomic<unsigned>>;

// Emitted on an RTSP client thread when a media is made for this path.
void on_media_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media, gpointer path) noexcept {
  watch_unprepare(factory, media);
  if (auto limit = viewer_limit(factory); !limit.counted_as.empty())
    g_object_set_data_full(G_OBJECT(media), kViewerPath, g_strdup(limit.counted_as.c_str()),
                           g_free);
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  if (!element)
    return;
  auto pipeline = Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(element.get())));
  if (!pipeline || !GST_IS_ELEMENT(pipeline.get()))
    return;
  if (gst_rtsp_media_is_shared(media))
    g_signal_connect(pipeline.get(), "deep-element-added", G_CALLBACK(on_shared_element_added),
                     nullptr);
  // (The factory's configure, which runs first, set the media's mode.)
  const bool publisher = gst_rtsp_media_get_transport_mode(media) & GST_RTSP_TRANSPORT_MODE_RECORD;
  auto viewers = std::make_shared<std::atomic<unsigned>>(0);
  g_object_set_data_full(G_OBJECT(media), kViewers, new ViewerCount(viewers),
                         [](gpointer p) { delete static_cast<ViewerCount*>(p); });
  if (GST_IS_BIN(pipeline.get()))
    guard_rtcp_input(GST_BIN(pipeline.get()), static_cast<const char*>(path),
                     publisher ? publisher_rtcp_budget() : viewer_rtcp_budget(viewers));
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(GST_ELEMENT(pipeline.get())));
  // The media owns the bus watch; sync messages reach us beside it.
  gst_bus_enable_sync_message_emission(bus.get());
  g_signal_connect_data(bus.get(), "sync-message::error", G_CALLBACK(on_sync_error),
                        g_strdup(static_cast<const char*>(path)),
                        [](gpointer p, GClosure*) { g_free(p); }, GConnectFlags(0));
  GMS_LOG_INFO("path %s: new pipeline", static_cast<const char*>(path));
}


}  // namespace

void set_viewer_limit(GstRTSPMediaFactory* factory, const std::string& counted_as,
                      unsigned max_viewers) {
  g_object_set_data_full(G_OBJECT(factory), kViewerLimit,
                         new ViewerLimit{counted_as, max_viewers},
                         [](gpointer p) { delete static_cast<ViewerLimit*>(p); });
}

ViewerLimit viewer_limit(GstRTSPMediaFactory* factory) {
  auto* l = static_cast<ViewerLimit*>(g_object_get_data(G_OBJECT(factory), kViewerLimit));
  return l ? *l : ViewerLimit{};
}

const char* viewer_path(GstRTSPMedia* media) {
  return static_cast<const char*>(g_object_get_data(G_OBJECT(media), kViewerPath));
}

std::shared_ptr<std::atomic<unsigned>> media_viewers(GstRTSPMedia* media) {
  auto* count = static_cast<ViewerCount*>(g_object_get_data(G_OBJECT(media), kViewers));
  return count ? *count : nullptr;
}

Ref<GstRTSPAddressPool> make_address_pool(const MulticastRange& m) {
  auto pool = Ref<GstRTSPAddressPool>::adopt(gst_rtsp_address_pool_new());
  if (!gst_rtsp_address_pool_add_range(pool.get(), m.min_address.c_str(), m.max_address.c_str(),
                                       m.min_port, m.max_port, m.ttl)) {
    GMS_LOG_WARN("multicast range %s-%s refused; multicast is off for it", m.min_address.c_str(),
                 m.max_address.c_str());
    return {};
  }
  return pool;
}

void renew_shared_media(GstRTSPMediaFactory* factory) {
  if (Generation gen = generation_of(factory)) {
    std::lock_guard<std::mutex> g(gen->lock);
    gen->epoch++;
    gen->per_path.clear();
  }
}

void unshared_media_key() { last_key.factory = nullptr; }

gchar* shared_media_key(GstRTSPMediaFactory* factory, const GstRTSPUrl* url) {
  Generation gen = generation_of(factory);
  std::string key = gen ? gen->key(url->abspath) : std::string(url->abspath) + "#0.0";
  last_key.factory = factory;
  last_key.key = key;
  return g_strdup(key.c_str());
}

void apply_media_settings(GstRTSPMediaFactory* factory, const PathConfig& path,
                          GstRTSPAddressPool* pool) {
  g_object_set_data_full(G_OBJECT(factory), kGeneration,
                         new Generation(std::make_shared<KeyTable>()),
                         [](gpointer p) { delete static_cast<Generation*>(p); });
  gst_rtsp_media_factory_set_shared(factory, path.shared);
  set_factory_require_tls(factory, path.require_tls);
  // gst-rtsp-server 1.22 encrypts a stream for all its clients once SAVP is
  // among its profiles (one srtpenc per stream): a media is either SRTP or
  // plain, never both, so the path chooses.
  gst_rtsp_media_factory_set_profiles(factory,
                                      path.srtp ? GST_RTSP_PROFILE_SAVP : GST_RTSP_PROFILE_AVP);
  set_viewer_limit(factory, path.name, path.max_viewers);
  if (path.latency_ms)
    gst_rtsp_media_factory_set_latency(factory, *path.latency_ms);
  unsigned lower = 0;
  if (path.protocols & kProtoUdp)
    lower |= GST_RTSP_LOWER_TRANS_UDP;
  if (path.protocols & kProtoUdpMcast)
    lower |= GST_RTSP_LOWER_TRANS_UDP_MCAST;
  if (path.protocols & kProtoTcp)
    lower |= GST_RTSP_LOWER_TRANS_TCP;
  gst_rtsp_media_factory_set_protocols(factory, GstRTSPLowerTrans(lower));
  if ((path.protocols & kProtoUdpMcast) && pool)
    gst_rtsp_media_factory_set_address_pool(factory, pool);
  g_signal_connect_data(factory, "media-configure", G_CALLBACK(on_media_configure),
                        g_strdup(path.name.c_str()), [](gpointer p, GClosure*) { g_free(p); },
                        GConnectFlags(0));
}

}  // namespace gms::mounts
