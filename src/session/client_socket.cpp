#include "session/client_socket.h"

namespace gms::session {
namespace {

const char kWriteSocket[] = "gms-write-socket";

}  // namespace

void keep_write_socket(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* sock = conn ? gst_rtsp_connection_get_write_socket(conn) : nullptr;
  if (sock)
    g_object_set_data_full(G_OBJECT(client), kWriteSocket, g_object_ref(sock), g_object_unref);
}

Ref<GSocket> open_write_socket(GstRTSPClient* client) {
  // Set once before the client's first request, never replaced: reading it
  // from any thread afterwards is safe.
  auto* sock = static_cast<GSocket*>(g_object_get_data(G_OBJECT(client), kWriteSocket));
  if (!sock || g_socket_is_closed(sock))
    return {};
  return Ref<GSocket>::borrow(sock);
}

}  // namespace gms::session
