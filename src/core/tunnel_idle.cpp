#include "core/tunnel_idle.h"

#include "core/client_deadline.h"

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
  after_deadline(client, control, timeout, [](GstRTSPClient* c) {
    if (!idle_half(c))
      return;
    GstRTSPConnection* conn = gst_rtsp_client_get_connection(c);
    GMS_LOG_INFO("client %s: HTTP tunnel half without a request in time; closed",
                 gst_rtsp_connection_get_ip(conn));
    // Its own thread closes it on reading the end (a close from here
    // would race the library's reads).
    if (GSocket* socket = gst_rtsp_connection_get_read_socket(conn))
      g_socket_shutdown(socket, TRUE, TRUE, nullptr);
  });
}

}  // namespace gms
