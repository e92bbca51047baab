#include "core/tcp_transport_fence.h"

#include <gst/rtsp-server/rtsp-stream.h>

#include <algorithm>

#include "core/client_signals.h"

namespace gms {

namespace {

bool interleaved(GstRTSPStreamTransport* trans) {
  const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(trans);
  return t && t->lower_transport == GST_RTSP_LOWER_TRANS_TCP;
}

GstRTSPStatusCode on_play_or_record(GstRTSPClient* client, GstRTSPContext* ctx,
                                    gpointer) noexcept {
  if (TcpTransportFence* fence = tcp_transport_fence(client); fence && ctx->sessmedia)
    fence->remember(ctx->sessmedia);
  return GST_RTSP_STS_OK;
}

}  // namespace

bool StreamLook::has(GstRTSPStream* stream, GstRTSPStreamTransport* trans) {
  auto it = seen_.find(stream);
  if (it == seen_.end()) {
    it = seen_.emplace(stream, std::unordered_set<GstRTSPStreamTransport*>{}).first;
    GList* all = gst_rtsp_stream_transport_filter(stream, nullptr, nullptr);
    for (GList* l = all; l; l = l->next)
      it->second.insert(static_cast<GstRTSPStreamTransport*>(l->data));
    g_list_free_full(all, g_object_unref);  // (the pointers stay comparable)
  }
  return it->second.count(trans) > 0;
}

void TcpTransportFence::remember(GstRTSPSessionMedia* sessmedia) {
  GPtrArray* all = gst_rtsp_session_media_get_transports(sessmedia);
  if (!all)
    return;
  std::lock_guard<std::mutex> g(lock_);
  std::erase_if(transports_, [](const auto& t) {
    return g_atomic_int_get(&G_OBJECT(t.get())->ref_count) == 1;
  });
  for (guint i = 0; i < all->len; ++i) {
    auto* trans = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(all, i));
    if (!trans || !interleaved(trans))
      continue;
    bool known = std::any_of(transports_.begin(), transports_.end(),
                             [&](const auto& t) { return t.get() == trans; });
    if (!known)
      transports_.push_back(Ref<GstRTSPStreamTransport>::borrow(trans));
  }
  g_ptr_array_unref(all);
}

bool TcpTransportFence::empty() {
  std::lock_guard<std::mutex> g(lock_);
  return transports_.empty();
}

bool TcpTransportFence::quiet(StreamLook& look) {
  std::lock_guard<std::mutex> g(lock_);
  return std::none_of(transports_.begin(), transports_.end(), [&](const auto& t) {
    GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(t.get());
    return stream && look.has(stream, t.get());
  });
}

void TcpTransportFence::forget() {
  std::vector<Ref<GstRTSPStreamTransport>> all;
  std::lock_guard<std::mutex> g(lock_);
  all.swap(transports_);
}

void add_tcp_transport_fence(ClientSignals& signals) {
  signals.connect("pre-play-request", G_CALLBACK(on_play_or_record), nullptr);
  signals.connect("pre-record-request", G_CALLBACK(on_play_or_record), nullptr);
}

}  // namespace gms
