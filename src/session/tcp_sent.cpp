#include "session/tcp_sent.h"

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::session {
namespace {

constexpr char kSinkCount[] = "gms-tcp-sink-count";  // on appsinks
constexpr char kWatched[] = "gms-tcp-sinks-watched";  // on joined bins
constexpr char kTransportCount[] = "gms-tcp-transport-count";

struct StreamCount {
  std::atomic<uint64_t> packets{0};
  // The last packet in: bit 48 set once there is one, seq in bits 32-47,
  // RTP time below.
  std::atomic<uint64_t> last{0};
};
using StreamCountPtr = std::shared_ptr<StreamCount>;

struct TransportCount {
  std::mutex lock;  // taken before sink_count's and the library's pad and object locks
  StreamCountPtr stream;  // null until found (pending)
  bool pending = false;   // its appsink is made by the library after the PLAY's hook
  uint64_t base = 0;      // the stream's count at the last PLAY
  uint64_t earlier = 0;  // counted before the last PAUSE
  bool playing = false;
};

void free_stream_count(gpointer p) { delete static_cast<StreamCountPtr*>(p); }

GstPadProbeReturn on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  uint64_t n = 1;
  GstBuffer* last = nullptr;
  if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) && list) {
    n = gst_buffer_list_length(list);
    last = n ? gst_buffer_list_get(list, n - 1) : nullptr;
  } else {
    last = GST_PAD_PROBE_INFO_BUFFER(info);
  }
  StreamCount& count = **static_cast<StreamCountPtr*>(data);
  count.packets.fetch_add(n, std::memory_order_relaxed);
  if (auto m = last ? rtp_mark(last) : std::nullopt)
    count.last.store((uint64_t(1) << 48) | (uint64_t(m->seq) << 32) | m->rtptime,
                     std::memory_order_release);
  return GST_PAD_PROBE_OK;
}

}  // namespace

std::optional<RtpMark> rtp_mark(GstBuffer* packet) {
  // The fixed header's first 8 bytes, copied: no mapping of the payload.
  guint8 h[8];
  if (!packet || gst_buffer_extract(packet, 0, h, sizeof h) != sizeof h || (h[0] & 0xc0) != 0x80)
    return std::nullopt;
  return RtpMark{uint16_t((h[2] << 8) | h[3]),
                 (uint32_t(h[4]) << 24) | (uint32_t(h[5]) << 16) | (uint32_t(h[6]) << 8) | h[7]};
}

namespace {

// The sink pad of the appsink below `src`, through elements with one
// "src" pad (the library's queue, ours on relayed paths), at most `hops`
// elements down.
Ref<GstPad> appsink_pad_below(GstPad* src, int hops) {
  auto peer = Ref<GstPad>::adopt(gst_pad_get_peer(src));
  auto e = Ref<GstElement>::adopt(peer ? gst_pad_get_parent_element(peer.get()) : nullptr);
  if (!e)
    return {};
  GstElementFactory* f = gst_element_get_factory(e.get());
  if (f && g_str_equal(GST_OBJECT_NAME(f), "appsink"))
    return peer;
  auto next = Ref<GstPad>::adopt(gst_element_get_static_pad(e.get(), "src"));
  return next && hops > 0 ? appsink_pad_below(next.get(), hops - 1) : Ref<GstPad>{};
}

}  // namespace

// The TCP appsink of the stream's RTP: below the tee on rtpbin's source
// pad that the payloader's pad feeds (send_rtp_sink_N -> send_rtp_src_N).
// The library makes it when the PLAY completes the pipeline, before the
// adjust_play_response hook. Packets are counted as they enter it: past
// the queue in front, which a flushing seek empties and which holds up to
// a second while every TCP viewer is slow (then a joining viewer gets
// what it holds); past the pad the library blocks to preroll a media.
Ref<GstPad> tcp_appsink_pad(GstRTSPStream* stream) {
  auto pay = Ref<GstPad>::adopt(gst_rtsp_stream_get_srcpad(stream));
  auto sink = Ref<GstPad>::adopt(pay ? gst_pad_get_peer(pay.get()) : nullptr);
  auto rtpbin = Ref<GstElement>::adopt(sink ? gst_pad_get_parent_element(sink.get()) : nullptr);
  if (!rtpbin || !g_str_has_prefix(GST_PAD_NAME(sink.get()), "send_rtp_sink_"))
    return {};
  const std::string name = std::string("send_rtp_src_") +
                           (GST_PAD_NAME(sink.get()) + sizeof("send_rtp_sink_") - 1);
  auto out = Ref<GstPad>::adopt(gst_element_get_static_pad(rtpbin.get(), name.c_str()));
  auto tee_sink = Ref<GstPad>::adopt(out ? gst_pad_get_peer(out.get()) : nullptr);
  auto tee = Ref<GstElement>::adopt(tee_sink ? gst_pad_get_parent_element(tee_sink.get()) : nullptr);
  if (!tee)
    return {};
  std::vector<Ref<GstPad>> branches;
  GST_OBJECT_LOCK(tee.get());
  for (GList* l = GST_ELEMENT(tee.get())->srcpads; l; l = l->next)
    branches.push_back(Ref<GstPad>::borrow(GST_PAD(l->data)));
  GST_OBJECT_UNLOCK(tee.get());
  for (const auto& b : branches)
    if (auto pad = appsink_pad_below(b.get(), 4))
      return pad;
  return {};
}

namespace {

// The counter of an appsink, made with its probe the first time. The
// probe and the element each hold a reference: the pad may outlive the
// element's data or the other way round.
StreamCountPtr sink_count(GstElement* appsink) {
  // Two viewers' PLAYs and the control context may race; only pad and
  // object locks are taken inside.
  static std::mutex install;
  std::lock_guard<std::mutex> hold(install);
  if (auto* p = static_cast<StreamCountPtr*>(g_object_get_data(G_OBJECT(appsink), kSinkCount)))
    return *p;
  auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(appsink, "sink"));
  if (!pad)
    return nullptr;
  auto count = std::make_shared<StreamCount>();
  gst_pad_add_probe(pad.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_rtp, new StreamCountPtr(count), free_stream_count);
  g_object_set_data_full(G_OBJECT(appsink), kSinkCount, new StreamCountPtr(count),
                         free_stream_count);
  return count;
}

StreamCountPtr stream_count(GstRTSPStream* stream) {
  Ref<GstPad> pad = tcp_appsink_pad(stream);
  auto sink = Ref<GstElement>::adopt(pad ? gst_pad_get_parent_element(pad.get()) : nullptr);
  return sink ? sink_count(sink.get()) : nullptr;
}

void on_element_added(GstBin*, GstBin*, GstElement* e, gpointer) noexcept {
  GstElementFactory* f = gst_element_get_factory(e);
  if (f && g_str_equal(GST_OBJECT_NAME(f), "appsink"))
    sink_count(e);
}

// A stream without a TCP appsink yet (a running media's first TCP viewer:
// the library plugs it when it adds the transport, right after the hook):
// every appsink added to its bin gets its counter as it is added, before
// a packet reaches it, so the viewer's count starts at 0. The media is
// locked through the PLAY, so nothing else plugs one meanwhile.
void count_new_sinks(GstRTSPStream* stream) {
  auto bin = Ref<GstBin>::adopt(gst_rtsp_stream_get_joined_bin(stream));
  if (!bin || g_object_get_data(G_OBJECT(bin.get()), kWatched))
    return;
  g_object_set_data(G_OBJECT(bin.get()), kWatched, GINT_TO_POINTER(1));
  g_signal_connect(bin.get(), "deep-element-added", G_CALLBACK(on_element_added), nullptr);
}

TransportCount* transport_count(GstRTSPStreamTransport* trans) {
  return static_cast<TransportCount*>(g_object_get_data(G_OBJECT(trans), kTransportCount));
}

// Packets since the last PLAY; with c.lock held.
uint64_t now(TransportCount& c, GstRTSPStreamTransport* trans) {
  if (c.pending) {
    c.stream = stream_count(gst_rtsp_stream_transport_get_stream(trans));
    c.pending = !c.stream;
  }
  return c.stream ? c.stream->packets.load(std::memory_order_relaxed) - c.base : 0;
}

template <typename F>
void for_each_tcp(GstRTSPSessionMedia* sm, F&& f) {
  GPtrArray* transports = sm ? gst_rtsp_session_media_get_transports(sm) : nullptr;
  for (guint i = 0; transports && i < transports->len; ++i) {
    // A track the client did not set up has no transport.
    auto* trans = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
    const GstRTSPTransport* t = trans ? gst_rtsp_stream_transport_get_transport(trans) : nullptr;
    if (t && t->lower_transport == GST_RTSP_LOWER_TRANS_TCP)
      f(trans);
  }
  if (transports)
    g_ptr_array_unref(transports);
}

// Only the client's thread makes a transport's count.
TransportCount& made_count(GstRTSPStreamTransport* trans) {
  TransportCount* c = transport_count(trans);
  if (!c) {
    c = new TransportCount;
    g_object_set_data_full(G_OBJECT(trans), kTransportCount, c,
                           [](gpointer p) { delete static_cast<TransportCount*>(p); });
  }
  return *c;
}

}  // namespace

void tcp_transports_playing(GstRTSPSessionMedia* sm) {
  for_each_tcp(sm, [](GstRTSPStreamTransport* trans) {
    GstRTSPStream* s = gst_rtsp_stream_transport_get_stream(trans);
    TransportCount& c = made_count(trans);
    std::lock_guard<std::mutex> hold(c.lock);
    if (c.playing)
      return;
    c.stream = stream_count(s);
    c.pending = !c.stream;
    if (c.pending)
      count_new_sinks(s);
    c.base = c.stream ? c.stream->packets.load(std::memory_order_relaxed) : 0;
    c.playing = true;
  });
}

void tcp_transport_playing_from(GstRTSPStreamTransport* trans, uint64_t base) {
  TransportCount& c = made_count(trans);
  std::lock_guard<std::mutex> hold(c.lock);
  if (c.playing)
    return;
  c.stream = stream_count(gst_rtsp_stream_transport_get_stream(trans));
  c.pending = !c.stream;
  c.base = base;
  c.playing = true;
}

std::optional<uint64_t> tcp_entered(GstRTSPStream* stream) {
  StreamCountPtr count = stream ? stream_count(stream) : nullptr;
  if (!count)
    return std::nullopt;
  return count->packets.load(std::memory_order_relaxed);
}

void tcp_transports_paused(GstRTSPSessionMedia* sm) {
  for_each_tcp(sm, [](GstRTSPStreamTransport* trans) {
    TransportCount* c = transport_count(trans);
    if (!c)
      return;
    std::lock_guard<std::mutex> hold(c->lock);
    if (!c->playing)
      return;
    c->earlier += now(*c, trans);
    c->playing = false;
  });
}

std::optional<RtpMark> tcp_last_entered(GstRTSPStream* stream) {
  StreamCountPtr count = stream ? stream_count(stream) : nullptr;
  uint64_t v = count ? count->last.load(std::memory_order_acquire) : 0;
  if (!(v >> 48))
    return std::nullopt;
  return RtpMark{uint16_t(v >> 32), uint32_t(v)};
}

std::optional<uint64_t> tcp_packets_sent(GstRTSPStreamTransport* trans) {
  TransportCount* c = transport_count(trans);
  if (!c)
    return std::nullopt;
  std::lock_guard<std::mutex> hold(c->lock);
  if (!c->playing)
    return c->earlier;
  return c->earlier + now(*c, trans);
}

}  // namespace gms::session
