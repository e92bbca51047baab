#include "udp_ports.h"

#include <cstdlib>

namespace gms::test {

Ref<GSocket> udp_socket(const char* ip, unsigned port) {
  GErrorPtr err;
  auto s = Ref<GSocket>::adopt(
      g_socket_new(G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, out(err)));
  if (!s)
    return {};
  auto addr = Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string(ip, port));
  if (!g_socket_bind(s.get(), addr.get(), FALSE, out(err)))
    return {};
  return s;
}

bool udp_pair(const char* ip, Ref<GSocket>& rtp, Ref<GSocket>& rtcp) {
  for (int i = 0; i < 50; ++i) {
    unsigned p = 20000 + 2 * unsigned(g_random_int_range(0, 20000));
    rtp = udp_socket(ip, p);
    rtcp = rtp ? udp_socket(ip, p + 1) : Ref<GSocket>();
    if (rtp && rtcp)
      return true;
  }
  rtp = {};
  rtcp = {};
  return false;
}

uint16_t local_port(GSocket* s) {
  auto a = Ref<GSocketAddress>::adopt(g_socket_get_local_address(s, nullptr));
  return a ? g_inet_socket_address_get_port(G_INET_SOCKET_ADDRESS(a.get())) : 0;
}

unsigned transport_value(const std::string& transport, const std::string& key, bool second) {
  auto at = transport.find(key);
  if (at == std::string::npos)
    return 0;
  char* end = nullptr;
  unsigned long first = std::strtoul(transport.c_str() + at + key.size(), &end, 10);
  if (!second)
    return unsigned(first);
  return end && *end == '-' ? unsigned(std::strtoul(end + 1, nullptr, 10)) : 0;
}

bool send_to_loopback(GSocket* s, uint16_t port, const std::string& data) {
  auto dest = Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string("127.0.0.1", port));
  return g_socket_send_to(s, dest.get(), data.data(), data.size(), nullptr, nullptr) ==
         gssize(data.size());
}

}  // namespace gms::test
