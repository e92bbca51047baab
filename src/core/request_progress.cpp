#include "core/request_progress.h"

#include <linux/tcp.h>  // tcp_info with tcpi_bytes_received (glibc's stops before it)
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <optional>

#include "core/client_deadline.h"
#include "core/log.h"
#include "gms/ref.h"

namespace gms {
namespace {

const char kProgress[] = "gms-request-progress";

// On the client; the fields the client thread writes are atomic, the rest
// is the control context's.
struct Progress {
  Ref<GSocket> socket;  // the connection's, kept from the start
  std::chrono::milliseconds timeout{10000};
  std::atomic<uint64_t> bytes_seen{0};   // received when a request last began or was answered
  std::atomic<bool> busy{false};         // a request is being handled
  std::atomic<bool> carries_data{false};  // interleaved RTP/RTCP may come in
  gint64 stalled_since = -1;  // µs, monotonic; control context
};

Progress* progress_of(GstRTSPClient* client) {
  return static_cast<Progress*>(g_object_get_data(G_OBJECT(client), kProgress));
}

std::optional<uint64_t> bytes_received(GSocket* socket) {
  if (g_socket_is_closed(socket))
    return std::nullopt;
  tcp_info info{};
  socklen_t len = sizeof info;
  if (getsockopt(g_socket_get_fd(socket), IPPROTO_TCP, TCP_INFO, &info, &len) != 0)
    return std::nullopt;
  return info.tcpi_bytes_received;
}

// Client thread: a request began (busy) or was answered.
void note(GstRTSPClient* client, bool busy) {
  Progress* p = progress_of(client);
  if (!p)
    return;
  if (std::optional<uint64_t> bytes = bytes_received(p->socket.get()))
    p->bytes_seen = *bytes;
  p->busy = busy;
}

GstRTSPStatusCode on_request(GstRTSPClient* client, GstRTSPContext*, gpointer) noexcept {
  note(client, true);
  return GST_RTSP_STS_OK;
}

bool interleaved_setup(GstRTSPContext* ctx, GstRTSPMessage* reply) {
  gchar* transport = nullptr;
  return ctx && ctx->request && ctx->request->type == GST_RTSP_MESSAGE_REQUEST &&
         ctx->request->type_data.request.method == GST_RTSP_SETUP &&
         reply->type_data.response.code == GST_RTSP_STS_OK &&
         gst_rtsp_message_get_header(reply, GST_RTSP_HDR_TRANSPORT, &transport, 0) ==
             GST_RTSP_OK &&
         std::strstr(transport, "interleaved=") != nullptr;
}

void on_send_message(GstRTSPClient* client, GstRTSPContext* ctx, GstRTSPMessage* message,
                     gpointer) noexcept {
  if (!message || message->type != GST_RTSP_MESSAGE_RESPONSE)
    return;
  note(client, false);
  if (interleaved_setup(ctx, message))
    if (Progress* p = progress_of(client))
      p->carries_data = true;
}

// Whether to keep watching `client`; closes it when its request is stuck.
bool check(GstRTSPClient* client) {
  Progress* p = progress_of(client);
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  if (!p || p->carries_data || !conn || gst_rtsp_connection_is_tunneled(conn))
    return false;
  std::optional<uint64_t> bytes = bytes_received(p->socket.get());
  if (!bytes)
    return false;
  if (p->busy || *bytes == p->bytes_seen) {
    p->stalled_since = -1;
    return true;
  }
  const gint64 now = g_get_monotonic_time();
  if (p->stalled_since < 0)
    p->stalled_since = now;
  if (now - p->stalled_since < gint64(p->timeout.count()) * 1000)
    return true;
  GMS_LOG_INFO("client %s: a request begun and not finished within %lld ms; closed",
               gst_rtsp_connection_get_ip(conn), static_cast<long long>(p->timeout.count()));
  g_socket_shutdown(p->socket.get(), TRUE, TRUE, nullptr);
  return false;
}

}  // namespace

void watch_request_progress(GstRTSPClient* client, GMainContext* control,
                            std::chrono::milliseconds timeout) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  GSocket* socket = conn ? gst_rtsp_connection_get_read_socket(conn) : nullptr;
  if (!socket)
    return;
  auto* p = new Progress;
  p->socket = Ref<GSocket>::borrow(socket);
  p->timeout = timeout;
  g_object_set_data_full(G_OBJECT(client), kProgress, p,
                         [](gpointer d) { delete static_cast<Progress*>(d); });
  for (const char* sig :
       {"pre-options-request", "pre-describe-request", "pre-setup-request", "pre-play-request",
        "pre-pause-request", "pre-teardown-request", "pre-get-parameter-request",
        "pre-set-parameter-request", "pre-announce-request", "pre-record-request"})
    g_signal_connect(client, sig, G_CALLBACK(on_request), nullptr);
  g_signal_connect(client, "send-message", G_CALLBACK(on_send_message), nullptr);
  // Checked five times per timeout: a stuck request is closed between
  // `timeout` and 1.4 × `timeout` after its bytes came.
  every_interval(client, control,
                 std::max(timeout / 5, std::chrono::milliseconds(200)), check);
}

}  // namespace gms
