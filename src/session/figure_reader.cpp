#include "session/figure_reader.h"

#include <gst/rtsp-server/rtsp-session-media.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>
#include <linux/tcp.h>  // tcp_info with tcpi_bytes_sent (glibc's stops before it)
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>
#include <atomic>
#include <string>

#include "session/client_socket.h"
#include "session/tcp_sent.h"

namespace gms::session {
namespace {

// rtpsession counts 28 bytes of IP and UDP header per received packet in
// "bytes-received"; what the publisher sent is the RTP packets themselves.
constexpr guint64 kUdpIpOverhead = 28;

template <typename F>
void for_each_source(const GstStructure* stats, F&& f) {
  if (!stats)
    return;
  const GValue* v = gst_structure_get_value(stats, "source-stats");
  if (!v || !G_VALUE_HOLDS_BOXED(v))
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  auto* arr = static_cast<GValueArray*>(g_value_get_boxed(v));
  for (guint i = 0; arr && i < arr->n_values; ++i) {
    const GValue* sv = g_value_array_get_nth(arr, i);
    if (GST_VALUE_HOLDS_STRUCTURE(sv))
      f(gst_value_get_structure(sv));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS
}

bool flag(const GstStructure* s, const char* name) {
  gboolean b = FALSE;
  return gst_structure_get_boolean(s, name, &b) && b;
}

guint64 u64(const GstStructure* s, const char* name) {
  guint64 n = 0;
  gst_structure_get_uint64(s, name, &n);
  return n;
}

void add(std::optional<uint64_t>& to, uint64_t n) { to = to.value_or(0) + n; }

// The receiver report of the viewer whose RTCP comes from `rtcp_from`
// ("" for TCP: the one remote report without an address).
const GstStructure* report_of(const GstStructure* stats, const std::string& rtcp_from) {
  const GstStructure* found = nullptr;
  int candidates = 0;
  for_each_source(stats, [&](const GstStructure* s) {
    if (flag(s, "internal") || !flag(s, "have-rb"))
      return;
    const char* from = gst_structure_get_string(s, "rtcp-from");
    if (rtcp_from.empty() ? from == nullptr : (from && rtcp_from == from)) {
      found = s;
      ++candidates;
    }
  });
  return candidates == 1 ? found : nullptr;
}

void add_loss(Figures& f, const GstStructure* report) {
  if (!report)
    return;
  guint fraction = 0;
  gint lost = 0;
  gst_structure_get_uint(report, "rb-fractionlost", &fraction);
  gst_structure_get_int(report, "rb-packetslost", &lost);
  f.fraction_lost = std::max(f.fraction_lost.value_or(0.0), fraction / 256.0);
  f.cumulative_lost = f.cumulative_lost.value_or(0) + lost;
}

void add_publisher(Figures& f, const GstStructure* stats) {
  for_each_source(stats, [&](const GstStructure* s) {
    if (flag(s, "internal") || !flag(s, "is-sender"))
      return;
    guint64 packets = u64(s, "packets-received");
    guint64 bytes = u64(s, "bytes-received");
    add(f.packets_received, packets);
    add(f.bytes_received, bytes > packets * kUdpIpOverhead ? bytes - packets * kUdpIpOverhead : 0);
  });
}

// Bytes the client's (write) connection put on the wire, retransmissions
// included. Not the bytes the peer acknowledged: its delayed
// acknowledgements (40 to 200 ms) hold that figure back by up to a fifth
// of a second of stream, about 8.5 KB of a 2 Mbit/s one, which made it
// lower than what the client had read. Not asked of the connection: it
// may be closed already (client_socket.h).
std::optional<uint64_t> tcp_bytes_sent(GstRTSPClient* client) {
  Ref<GSocket> sock = client ? open_write_socket(client) : Ref<GSocket>();
  if (!sock)
    return std::nullopt;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(g_socket_get_fd(sock.get()), IPPROTO_TCP, TCP_INFO, &info, &len) != 0 ||
      len < offsetof(tcp_info, tcpi_bytes_sent) + sizeof info.tcpi_bytes_sent)
    return std::nullopt;
  return info.tcpi_bytes_sent;
}

constexpr char kBeside[] = "gms-sent-beside-sinks";

struct Beside {
  std::atomic<uint64_t> bytes{0}, packets{0};
};

}  // namespace

void add_sent_beside_sinks(GstRTSPStreamTransport* trans, uint64_t bytes, uint64_t packets) {
  auto* b = static_cast<Beside*>(g_object_get_data(G_OBJECT(trans), kBeside));
  if (!b) {
    b = new Beside;
    g_object_set_data_full(G_OBJECT(trans), kBeside, b,
                           [](gpointer p) { delete static_cast<Beside*>(p); });
  }
  b->bytes += bytes;
  b->packets += packets;
}

std::string transport_name(const GstRTSPTransport* t, GstRTSPClient* client) {
  if (!t)
    return {};
  switch (t->lower_transport) {
    case GST_RTSP_LOWER_TRANS_UDP:
      return "udp";
    case GST_RTSP_LOWER_TRANS_UDP_MCAST:
      return "udp-multicast";
    default: {
      GstRTSPConnection* conn = client ? gst_rtsp_client_get_connection(client) : nullptr;
      return conn && gst_rtsp_connection_is_tunneled(conn) ? "http-tunnel" : "tcp";
    }
  }
}

FigureReader::~FigureReader() {
  for (auto& [stream, s] : stats_)
    if (s)
      gst_structure_free(s);
}

const GstStructure* FigureReader::rtp_stats(GstRTSPStream* stream) {
  auto [it, fresh] = stats_.emplace(stream, nullptr);
  if (fresh) {
    if (auto rs = Ref<GObject>::adopt(gst_rtsp_stream_get_rtpsession(stream)))
      g_object_get(rs.get(), "stats", &it->second, nullptr);
  }
  return it->second;
}

const std::vector<Ref<GstElement>>& FigureReader::udp_sinks(GstRTSPStream* stream) {
  static const std::vector<Ref<GstElement>> kNone;
  auto bin = Ref<GstBin>::adopt(gst_rtsp_stream_get_joined_bin(stream));
  if (!bin)
    return kNone;
  auto [it, fresh] = sinks_.emplace(bin.get(), std::vector<Ref<GstElement>>{});
  if (!fresh)
    return it->second;
  GType type = g_type_from_name("GstMultiUDPSink");
  GstIterator* iter = gst_bin_iterate_recurse(bin.get());
  GValue item = G_VALUE_INIT;
  while (type && gst_iterator_next(iter, &item) == GST_ITERATOR_OK) {
    auto* e = GST_ELEMENT(g_value_get_object(&item));
    if (g_type_is_a(G_OBJECT_TYPE(e), type))
      it->second.push_back(Ref<GstElement>::borrow(e));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(iter);
  return it->second;
}

Figures FigureReader::read(GstRTSPSession* session, GstRTSPClient* client) {
  Figures f;
  GList* medias = gst_rtsp_session_filter(session, nullptr, nullptr);
  bool tcp_viewer = false;
  for (GList* l = medias; l; l = l->next) {
    auto* sm = GST_RTSP_SESSION_MEDIA(l->data);
    GstRTSPMedia* media = gst_rtsp_session_media_get_media(sm);
    const bool publisher =
        media && (gst_rtsp_media_get_transport_mode(media) & GST_RTSP_TRANSPORT_MODE_RECORD);
    GPtrArray* transports = gst_rtsp_session_media_get_transports(sm);
    for (guint i = 0; transports && i < transports->len; ++i) {
      // A track the client did not set up has no transport.
      auto* trans = static_cast<GstRTSPStreamTransport*>(g_ptr_array_index(transports, i));
      if (!trans)
        continue;
      GstRTSPStream* stream = gst_rtsp_stream_transport_get_stream(trans);
      const GstRTSPTransport* t = gst_rtsp_stream_transport_get_transport(trans);
      if (!stream || !t)
        continue;
      const GstStructure* stats = rtp_stats(stream);
      if (publisher) {
        add_publisher(f, stats);
        continue;
      }
      auto* beside = static_cast<Beside*>(g_object_get_data(G_OBJECT(trans), kBeside));
      if (t->lower_transport == GST_RTSP_LOWER_TRANS_TCP) {
        tcp_viewer = true;
        // Its bytes are the connection's; the packets the stream's
        // and those sent to it alone.
        if (auto packets = tcp_packets_sent(trans))
          add(f.packets_sent, *packets + (beside ? beside->packets.load() : 0));
        add_loss(f, report_of(stats, ""));
        continue;
      }
      if (beside) {
        add(f.bytes_sent, beside->bytes);
        add(f.packets_sent, beside->packets);
      }
      const bool mcast = t->lower_transport == GST_RTSP_LOWER_TRANS_UDP_MCAST;
      const int port = mcast ? t->port.min : t->client_port.min;
      for (const auto& sink : udp_sinks(stream)) {
        GstStructure* s = nullptr;
        g_signal_emit_by_name(sink.get(), "get-stats", t->destination, port, &s);
        if (!s)
          continue;
        if (gst_structure_has_field(s, "bytes-sent")) {
          add(f.bytes_sent, u64(s, "bytes-sent"));
          add(f.packets_sent, u64(s, "packets-sent"));
        }
        gst_structure_free(s);
      }
      if (!mcast && t->destination)
        add_loss(f, report_of(stats, std::string(t->destination) + ":" +
                                         std::to_string(t->client_port.max)));
    }
    if (transports)
      g_ptr_array_unref(transports);
  }
  g_list_free_full(medias, g_object_unref);
  if (tcp_viewer)
    f.bytes_sent = tcp_bytes_sent(client);
  return f;
}

}  // namespace gms::session
