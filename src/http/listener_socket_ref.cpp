#include "http/listener_socket_ref.h"

#include <libsoup/soup.h>

#include "gms/ref.h"

namespace gms::http {
namespace {

bool listener_keeps_socket_ref() {
  static const bool keeps = soup_get_major_version() == 3 && soup_get_minor_version() < 4;
  return keeps;
}

GQuark seen_quark() {
  static const GQuark q = g_quark_from_static_string("gms-listener-ref-taken");
  return q;
}

}  // namespace

void take_listener_socket_ref(SoupServerMessage* msg) {
  if (!listener_keeps_socket_ref())
    return;
  GSocket* sock = soup_server_message_get_socket(msg);
  // Later messages of a kept-alive connection: taken at its first one.
  if (!sock || g_object_get_qdata(G_OBJECT(sock), seen_quark()))
    return;
  g_object_set_qdata(G_OBJECT(sock), seen_quark(), GINT_TO_POINTER(1));
  // At the first message only the connection and the listener's lost
  // reference hold the socket: the stream over it is made after this.
  if (g_atomic_int_get(&G_OBJECT(sock)->ref_count) != 2)
    return;
  auto lost = Ref<GSocket>::adopt(sock);
}

}  // namespace gms::http
