#include "core/reader_watch.h"

#include <gst/rtsp-server/rtsp-context.h>
#include <gst/rtsp-server/rtsp-session-media.h>

#include <string>
#include <vector>

#include "core/client_signals.h"
#include "mounts/media_setup.h"
#include "mounts/publish_mount.h"

namespace gms {
namespace {

constexpr char kReader[] = "gms-reader";  // on a session media that joined

struct Hooks {
  std::shared_ptr<TrafficBoard> board;
  ReaderNotify notify;
};

// Lives on the session media; its end is the reader leaving.
struct Joined {
  std::shared_ptr<PathTraffic> traffic;
  std::string path;
  ReaderTransport transport;
  ReaderNotify notify;
  const void* key;
  std::shared_ptr<std::atomic<unsigned>> viewers;  // of the media, counted down at the end
  ~Joined() {
    if (viewers)
      viewers->fetch_sub(1, std::memory_order_relaxed);
    if (traffic->reader_left(key) && notify)
      notify(path, false, transport);
  }
};

ReaderTransport transport_of(GstRTSPSessionMedia* sm, GstRTSPMedia* media) {
  const guint n = gst_rtsp_media_n_streams(media);
  for (guint i = 0; i < n; ++i) {
    GstRTSPStreamTransport* st = gst_rtsp_session_media_get_transport(sm, i);
    const GstRTSPTransport* t = st ? gst_rtsp_stream_transport_get_transport(st) : nullptr;
    if (!t)
      continue;
    if (t->lower_transport & GST_RTSP_LOWER_TRANS_TCP)
      return ReaderTransport::kTcp;
    if (t->lower_transport & GST_RTSP_LOWER_TRANS_UDP_MCAST)
      return ReaderTransport::kUdpMulticast;
    return ReaderTransport::kUdp;
  }
  return ReaderTransport::kUdp;
}

// The media's relay readers (msrelaysrc named pay0, pay1…): what they push
// is what each of the media's readers is sent.
std::vector<Ref<GstElement>> relay_sources(GstRTSPMedia* media) {
  std::vector<Ref<GstElement>> out;
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  if (!element || !GST_IS_BIN(element.get()))
    return out;
  for (unsigned i = 0;; ++i) {
    std::string name = "pay" + std::to_string(i);
    auto e = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(element.get()), name.c_str()));
    if (!e)
      break;
    GstElementFactory* f = gst_element_get_factory(e.get());
    if (f && g_str_equal(GST_OBJECT_NAME(f), "msrelaysrc"))
      out.push_back(std::move(e));
  }
  return out;
}

// Bytes the relay readers pushed that a new reader does not get. A media's
// first reader gets all of them: what the media pushed while it was being
// prepared waits for it. A reader joining a running media gets what comes
// from now on, and its GOP (sent to it alone, not through the relay
// readers): that much counts as sent before the base.
uint64_t bytes_before(GstRTSPMedia* media, const std::vector<Ref<GstElement>>& srcs) {
  if (!mounts::joins_running_media(media))
    return 0;
  uint64_t base = PathTraffic::pushed_bytes(srcs), gop = 0;
  for (const auto& src : srcs) {
    GstBufferList* list = nullptr;
    g_signal_emit_by_name(src.get(), "get-gop", &list);
    if (!list)
      continue;
    gop += gst_buffer_list_calculate_size(list);
    gst_buffer_list_unref(list);
  }
  return base > gop ? base - gop : 0;
}

void join(Hooks* hooks, GstRTSPContext* ctx) {
  GstRTSPSessionMedia* sm = ctx->sessmedia;
  GstRTSPMedia* media = ctx->media;
  if (!sm || !media || g_object_get_data(G_OBJECT(sm), kReader))
    return;  // a PLAY after PAUSE is the same reader
  const char* path = mounts::viewer_path(media);
  if (!path)
    return;
  const ReaderTransport t = transport_of(sm, media);
  auto traffic = hooks->board->of(path);
  auto srcs = relay_sources(media);
  if (!traffic->reader_joined(sm, t, srcs, bytes_before(media, srcs)))
    return;
  auto viewers = mounts::media_viewers(media);
  if (viewers)
    viewers->fetch_add(1, std::memory_order_relaxed);
  g_object_set_data_full(G_OBJECT(sm), kReader,
                         new Joined{traffic, path, t, hooks->notify, sm, std::move(viewers)},
                         [](gpointer j) { delete static_cast<Joined*>(j); });
  if (hooks->notify)
    hooks->notify(path, true, t);
}

// Before the PLAY is carried out: the bytes its media's relay readers
// pushed so far are not this reader's (the first reader's media starts to
// push while PLAY is handled, before "play-request").
GstRTSPStatusCode on_pre_play(GstRTSPClient*, GstRTSPContext* ctx, gpointer data) noexcept {
  join(static_cast<Hooks*>(data), ctx);
  return GST_RTSP_STS_OK;
}

// After it: in case the session media was not known before.
void on_play(GstRTSPClient*, GstRTSPContext* ctx, gpointer data) noexcept {
  join(static_cast<Hooks*>(data), ctx);
}

}  // namespace

void add_reader_watch(ClientSignals& signals, std::shared_ptr<TrafficBoard> board,
                      ReaderNotify notify) {
  auto* hooks = new Hooks{std::move(board), std::move(notify)};  // the table frees it
  signals.connect("pre-play-request", G_CALLBACK(on_pre_play), hooks,
                  [](gpointer h) { delete static_cast<Hooks*>(h); });
  signals.connect("play-request", G_CALLBACK(on_play), hooks);
}

}  // namespace gms
