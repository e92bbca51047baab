#include "core/tunnel_idle.h"

#include "core/log.h"
#include "core/request_check.h"
#include "gms/ref.h"

namespace gms {
namespace {

// Still a half: tunnelled, and its connection still reads (the half that
// merged into the other has lost its socket to it); no RTSP request came.
bool idle_half(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  return conn && gst_rtsp_connection_is_tunneled(conn) &&
         gst_rtsp_connection_get_read_socket(conn) && !client_had_request(client);
}

}  // namespace

void close_idle_tunnel_half(GstRTSPClient* client, GMainContext* control,
                            std::chrono::milliseconds timeout) {
  // A weak reference: a client gone first is simply gone.
  auto* weak = g_new0(GWeakRef, 1);
  g_weak_ref_init(weak, client);
  GSource* src = g_timeout_source_new(static_cast<guint>(timeout.count()));
  g_source_set_callback(
      src,
      [](gpointer data) noexcept -> gboolean {
        auto* c = static_cast<GstRTSPClient*>(g_weak_ref_get(static_cast<GWeakRef*>(data)));
        if (!c)
          return G_SOURCE_REMOVE;
        auto held = Ref<GstRTSPClient>::adopt(c);
        if (idle_half(c)) {
          GstRTSPConnection* conn = gst_rtsp_client_get_connection(c);
          GMS_LOG_INFO("client %s: HTTP tunnel half without a request in time; closed",
                       gst_rtsp_connection_get_ip(conn));
          // Its own thread closes it on reading the end (a close from
          // here would race the library's reads).
          if (GSocket* socket = gst_rtsp_connection_get_read_socket(conn))
            g_socket_shutdown(socket, TRUE, TRUE, nullptr);
        }
        return G_SOURCE_REMOVE;
      },
      weak,
      [](gpointer data) {
        g_weak_ref_clear(static_cast<GWeakRef*>(data));
        g_free(data);
      });
  g_source_attach(src, control);
  g_source_unref(src);
}

}  // namespace gms
