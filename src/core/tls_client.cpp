#include "core/tls_client.h"

#include "core/client_deadline.h"

#include <gst/rtsp-server/rtsp-mount-points.h>

#include <atomic>

#include "core/client_signals.h"
#include "core/log.h"
#include "mounts/publish_mount.h"
#include "gms/ref.h"

namespace gms {
namespace {

const char kTlsCertificate[] = "gms-tls-certificate";  // on the socket
const char kTlsState[] = "gms-tls-state";              // on the client
const char kRequireTls[] = "gms-require-tls";          // on a factory

struct TlsState {
  std::atomic<bool> answered{false};  // a response went out: a request came in
};

GSocket* client_socket(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  return conn ? gst_rtsp_connection_get_read_socket(conn) : nullptr;
}

std::string peer(GstRTSPClient* client) {
  GstRTSPConnection* conn = gst_rtsp_client_get_connection(client);
  const char* ip = conn ? gst_rtsp_connection_get_ip(conn) : nullptr;
  return ip ? ip : "?";
}

void on_send_message(GstRTSPClient* client, GstRTSPContext*, GstRTSPMessage*, gpointer) noexcept {
  if (auto* st = static_cast<TlsState*>(g_object_get_data(G_OBJECT(client), kTlsState)))
    st->answered = true;
}

// The deadline holds only a weak reference: a client that went first is
// simply gone.
void arm_first_request_deadline(GstRTSPClient* client, std::chrono::milliseconds timeout,
                                GMainContext* control) {
  after_deadline(client, control, timeout, [](GstRTSPClient* c) {
    auto* st = static_cast<TlsState*>(g_object_get_data(G_OBJECT(c), kTlsState));
    if (st && !st->answered) {
      GMS_LOG_INFO("client %s: no complete RTSPS request in time; closed", peer(c).c_str());
      // Shut, not closed from here: gst_rtsp_client_close() during a
      // handshake left the TCP connection and its descriptor open for as
      // long as the peer kept it (the TLS stream does not close while its
      // handshake is pending). Shut, the handshake fails in the client's
      // own thread and the library closes the connection there.
      if (GSocket* s = client_socket(c))
        g_socket_shutdown(s, TRUE, TRUE, nullptr);
    }
  });
}

bool path_requires_tls(GstRTSPClient* client, GstRTSPContext* ctx) {
  if (!ctx->uri)
    return false;
  auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_client_get_mount_points(client));
  if (!mounts)
    return false;
  gint matched = 0;
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      gst_rtsp_mount_points_match(mounts.get(), ctx->uri->abspath, &matched));
  return factory && g_object_get_data(G_OBJECT(factory.get()), kRequireTls);
}

// DESCRIBE, SETUP, ANNOUNCE, RECORD of a require-tls path by a plain client.
GstRTSPStatusCode refuse_plain(GstRTSPClient* client, GstRTSPContext* ctx, gpointer) noexcept {
  if (client_is_tls(client) || !path_requires_tls(client, ctx))
    return GST_RTSP_STS_OK;
  GMS_LOG_INFO("client %s: %s refused over plain RTSP: the path requires RTSPS (require-tls)",
               peer(client).c_str(), ctx->uri->abspath);
  mounts::set_refusal_reason(client, "this path is served over RTSPS only");
  return GST_RTSP_STS_FORBIDDEN;
}

}  // namespace

void mark_tls_socket(GSocket* socket, GTlsCertificate* certificate) {
  g_object_set_data_full(G_OBJECT(socket), kTlsCertificate, g_object_ref(certificate),
                         g_object_unref);
}

bool client_is_tls(GstRTSPClient* client) {
  GSocket* s = client_socket(client);
  return s && g_object_get_data(G_OBJECT(s), kTlsCertificate);
}

void set_factory_require_tls(GstRTSPMediaFactory* factory, bool required) {
  g_object_set_data(G_OBJECT(factory), kRequireTls, GINT_TO_POINTER(required ? 1 : 0));
}

void start_client_tls(GstRTSPClient* client, std::chrono::milliseconds first_request,
                      GMainContext* control) {
  GSocket* s = client_socket(client);
  auto* cert = s ? static_cast<GTlsCertificate*>(g_object_get_data(G_OBJECT(s), kTlsCertificate))
                 : nullptr;
  if (!cert)
    return;  // plain: refuse_plain() applies
  GErrorPtr err;
  GTlsConnection* tls = gst_rtsp_connection_get_tls(gst_rtsp_client_get_connection(client),
                                                    out(err));
  if (!tls) {
    GMS_LOG_WARN("client %s: no TLS: %s", peer(client).c_str(), err ? err->message : "?");
    gst_rtsp_client_close(client);
    return;
  }
  g_tls_connection_set_certificate(tls, cert);
  g_object_set_data_full(G_OBJECT(client), kTlsState, new TlsState,
                         [](gpointer p) { delete static_cast<TlsState*>(p); });
  arm_first_request_deadline(client, first_request, control);
}

void add_tls_checks(ClientSignals& signals) {
  for (const char* sig :
       {"pre-describe-request", "pre-setup-request", "pre-announce-request", "pre-record-request"})
    signals.connect(sig, G_CALLBACK(refuse_plain), nullptr);
  signals.connect("send-message", G_CALLBACK(on_send_message), nullptr);
}

}  // namespace gms
