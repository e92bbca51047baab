#include "http/http_guard.h"

#include <libsoup/soup.h>
#include <netinet/in.h>

#include <string>

#include "http/http_log.h"
#include "http/listener_socket_ref.h"
#include "gms/ref.h"

namespace gms::http {
namespace {

// One request being read: its message (which owns this), and the deadline
// for its headers.
struct HeaderWait {
  SoupServerMessage* msg = nullptr;
  GSource* deadline = nullptr;  // owned; destroyed once the headers came
};

void stop_waiting(HeaderWait* w) {
  if (w->deadline) {
    g_source_destroy(w->deadline);
    g_source_unref(w->deadline);
    w->deadline = nullptr;
  }
}

gboolean on_deadline(gpointer data) noexcept {
  auto* w = static_cast<HeaderWait*>(data);
  // Shut down, not closed: libsoup owns the descriptor, sees the end of the
  // stream on its pending read and cleans the connection up itself.
  if (GSocket* sock = soup_server_message_get_socket(w->msg))
    g_socket_shutdown(sock, TRUE, TRUE, nullptr);
  HTTP_LOG_DEBUG("HTTP: a connection sent no request within %u s; closed", kHeaderDeadlineSeconds);
  return G_SOURCE_REMOVE;
}

void on_got_headers(SoupServerMessage*, gpointer data) noexcept {
  stop_waiting(static_cast<HeaderWait*>(data));
}

constexpr char kIdleKey[] = "gms-idle-deadline";

gboolean on_idle_deadline(gpointer sock) noexcept {
  g_socket_shutdown(G_SOCKET(sock), TRUE, TRUE, nullptr);
  HTTP_LOG_DEBUG("HTTP: a kept-alive connection idle for %u s; closed", kHeaderDeadlineSeconds);
  // Drops the socket's hold on this source; its reference on the socket
  // goes when the dispatch ends.
  g_object_set_data(G_OBJECT(sock), kIdleKey, nullptr);
  return G_SOURCE_REMOVE;
}

// A request answered: a kept-alive connection has the same deadline for its
// next request (libsoup starts the next message only when bytes come). A
// closing one needs none: the timer would only keep its socket for
// kHeaderDeadlineSeconds (thousands of them under a burst of requests).
void on_request_finished(SoupServer*, SoupServerMessage* msg, gpointer) noexcept {
  GSocket* sock = soup_server_message_get_socket(msg);
  if (!sock || soup_message_headers_header_contains(soup_server_message_get_response_headers(msg),
                                                    "Connection", "close"))
    return;
  GSource* deadline = g_timeout_source_new_seconds(kHeaderDeadlineSeconds);
  g_source_set_callback(deadline, on_idle_deadline, g_object_ref(sock), g_object_unref);
  g_source_attach(deadline, g_main_context_get_thread_default());
  g_object_set_data_full(G_OBJECT(sock), kIdleKey, deadline, [](gpointer src) {
    g_source_destroy(static_cast<GSource*>(src));
    g_source_unref(static_cast<GSource*>(src));
  });
}

// A connection has connected, or sent the first bytes of its next request.
void on_request_started(SoupServer*, SoupServerMessage* msg, gpointer) noexcept {
  take_listener_socket_ref(msg);
  if (GSocket* sock = soup_server_message_get_socket(msg))
    g_object_set_data(G_OBJECT(sock), kIdleKey, nullptr);
  auto* w = new HeaderWait{msg, g_timeout_source_new_seconds(kHeaderDeadlineSeconds)};
  g_source_set_callback(w->deadline, on_deadline, w, nullptr);
  g_source_attach(w->deadline, g_main_context_get_thread_default());
  g_signal_connect(msg, "got-headers", G_CALLBACK(on_got_headers), w);
  // The message owns the wait, and its deadline goes with it.
  g_object_set_data_full(G_OBJECT(msg), "gms-header-wait", w, [](gpointer p) {
    auto* wait = static_cast<HeaderWait*>(p);
    stop_waiting(wait);
    delete wait;
  });
}

// Answers and closes without reading the body; the connection is ours once
// stolen. The answer is small and the socket's buffer empty: a
// non-blocking write takes it, or the client gets the close alone.
void refuse_body(SoupServerMessage* msg, const char* status_line) {
  GIOStream* io = soup_server_message_steal_connection(msg);
  if (!io)
    return;
  std::string answer = std::string("HTTP/1.1 ") + status_line +
                       "\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
  GOutputStream* out = g_io_stream_get_output_stream(io);
  if (G_IS_POLLABLE_OUTPUT_STREAM(out))
    g_pollable_output_stream_write_nonblocking(G_POLLABLE_OUTPUT_STREAM(out), answer.data(),
                                               answer.size(), nullptr, nullptr);
  g_io_stream_close(io, nullptr, nullptr);
  g_object_unref(io);
}

// After the headers, before the body.
void on_headers_read(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                     gpointer) noexcept {
  SoupMessageHeaders* h = soup_server_message_get_request_headers(msg);
  const SoupEncoding enc = soup_message_headers_get_encoding(h);
  if (enc == SOUP_ENCODING_CHUNKED || enc == SOUP_ENCODING_EOF) {
    HTTP_LOG_INFO("HTTP: %s: a body of unknown length refused (411)", path);
    refuse_body(msg, "411 Length Required");
  } else if (enc == SOUP_ENCODING_CONTENT_LENGTH && soup_message_headers_get_content_length(h) > kMaxBody) {
    HTTP_LOG_INFO("HTTP: %s: a body of %" G_GINT64_FORMAT " bytes refused (413; at most %" G_GINT64_FORMAT ")",
                 path, gint64(soup_message_headers_get_content_length(h)), gint64(kMaxBody));
    refuse_body(msg, "413 Payload Too Large");
  }
}

// Every answer closes its connection. libsoup 3.2 (Debian 12's) never sees
// a kept-alive connection that the client closes between requests: it
// stays in CLOSE_WAIT with its descriptor for good, one per request of a
// client such as curl or a metrics scraper that opens a connection per
// request, until the process runs out of descriptors. A connection per
// request costs a handshake, nothing next to what an API answer does.
void on_request_read(SoupServer*, SoupServerMessage* msg, gpointer) noexcept {
  soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Connection", "close");
}

}  // namespace

void guard_http_server(SoupServer* server) {
  g_signal_connect(server, "request-read", G_CALLBACK(on_request_read), nullptr);
  g_signal_connect(server, "request-started", G_CALLBACK(on_request_started), nullptr);
  g_signal_connect(server, "request-finished", G_CALLBACK(on_request_finished), nullptr);
  soup_server_add_early_handler(server, nullptr, on_headers_read, nullptr, nullptr);
}

gboolean listen_on(SoupServer* server, GSocketAddress* address, unsigned options, GError** error) {
  auto socket = Ref<GSocket>::adopt(g_socket_new(g_socket_address_get_family(address),
                                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error));
  if (!socket)
    return FALSE;
  g_socket_set_listen_backlog(socket.get(), kBacklog);
  // IPv6 only on an IPv6 address, as libsoup's own listener.
  if (g_socket_address_get_family(address) == G_SOCKET_FAMILY_IPV6 &&
      !g_socket_set_option(socket.get(), IPPROTO_IPV6, IPV6_V6ONLY, TRUE, error))
    return FALSE;
  // Reuse as libsoup does: a restarted server binds while the old
  // connections linger in TIME_WAIT.
  if (!g_socket_bind(socket.get(), address, TRUE, error) || !g_socket_listen(socket.get(), error))
    return FALSE;
  return soup_server_listen_socket(server, socket.get(), SoupServerListenOptions(options), error);
}

}  // namespace gms::http
