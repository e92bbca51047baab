#include "session/tcp_sent.h"

#include <atomic>
#include <memory>
#include <mutex>

#include "gms/ref.h"

namespace gms::session {
namespace {

constexpr char kStreamCount[] = "gms-tcp-stream-count";
constexpr char kTransportCount[] = "gms-tcp-transport-count";

struct StreamCount {
  std::atomic<uint64_t> packets{0};
};
using StreamCountPtr = std::shared_ptr<StreamCount>;

struct TransportCount {
  std::mutex lock;  // a leaf
  StreamCountPtr stream;
  uint64_t base = 0;     // the stream's count at the last PLAY
  uint64_t earlier = 0;  // counted before the last PAUSE
  bool playing = false;
};

void free_stream_count(gpointer p) { delete static_cast<StreamCountPtr*>(p); }

GstPadProbeReturn on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  uint64_t n = 0;
  if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
      (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) && list)
    n = gst_buffer_list_length(list);
  else
    n = 1;
  (*static_cast<StreamCountPtr*>(data))->packets.fetch_add(n, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// The stream's counter, its probe added at the stream's first TCP PLAY.
// The probe and the stream each hold a reference: the payloader's pad may
// outlive the stream object or the other way round.
StreamCountPtr stream_count(GstRTSPStream* stream) {
  // Two viewers' first PLAYs may race; only pad and object locks are taken
  // inside.
  static std::mutex install;
  std::lock_guard<std::mutex> hold(install);
  if (auto* p = static_cast<StreamCountPtr*>(g_object_get_data(G_OBJECT(stream), kStreamCount)))
    return *p;
  auto pad = Ref<GstPad>::adopt(gst_rtsp_stream_get_srcpad(stream));
  if (!pad)
    return nullptr;
  auto count = std::make_shared<StreamCount>();
  gst_pad_add_probe(pad.get(),
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
                    on_rtp, new StreamCountPtr(count), free_stream_count);
  g_object_set_data_full(G_OBJECT(stream), kStreamCount, new StreamCountPtr(count),
                         free_stream_count);
  return count;
}

TransportCount* transport_count(GstRTSPStreamTransport* trans) {
  return static_cast<TransportCount*>(g_object_get_data(G_OBJECT(trans), kTransportCount));
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

}  // namespace

void tcp_transports_playing(GstRTSPSessionMedia* sm) {
  for_each_tcp(sm, [](GstRTSPStreamTransport* trans) {
    StreamCountPtr stream = stream_count(gst_rtsp_stream_transport_get_stream(trans));
    if (!stream)
      return;
    // Only this client's thread makes or changes a transport's count.
    TransportCount* c = transport_count(trans);
    if (!c) {
      c = new TransportCount;
      g_object_set_data_full(G_OBJECT(trans), kTransportCount, c,
                             [](gpointer p) { delete static_cast<TransportCount*>(p); });
    }
    std::lock_guard<std::mutex> hold(c->lock);
    if (c->playing)
      return;
    c->stream = stream;
    c->base = stream->packets.load(std::memory_order_relaxed);
    c->playing = true;
  });
}

void tcp_transports_paused(GstRTSPSessionMedia* sm) {
  for_each_tcp(sm, [](GstRTSPStreamTransport* trans) {
    TransportCount* c = transport_count(trans);
    if (!c)
      return;
    std::lock_guard<std::mutex> hold(c->lock);
    if (!c->playing)
      return;
    c->earlier += c->stream->packets.load(std::memory_order_relaxed) - c->base;
    c->playing = false;
  });
}

std::optional<uint64_t> tcp_packets_sent(GstRTSPStreamTransport* trans) {
  TransportCount* c = transport_count(trans);
  if (!c)
    return std::nullopt;
  std::lock_guard<std::mutex> hold(c->lock);
  if (!c->playing)
    return c->earlier;
  return c->earlier + (c->stream->packets.load(std::memory_order_relaxed) - c->base);
}

}  // namespace gms::session
