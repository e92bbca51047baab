// UDP sockets of a test client: a port of its own, or an RTP/RTCP pair on
// an even port and the next (as RTP clients take them), and the numbers a
// SETUP reply's Transport header gives back.
#pragma once

#include <gio/gio.h>

#include <cstdint>
#include <string>

#include "gms/ref.h"

namespace gms::test {

// A UDP socket bound to `ip`:`port` (0: any free port); empty if it cannot
// be had.
Ref<GSocket> udp_socket(const char* ip, unsigned port = 0);

// An even port on `ip` and the next, both free; false when 50 tries failed.
bool udp_pair(const char* ip, Ref<GSocket>& rtp, Ref<GSocket>& rtcp);

uint16_t local_port(GSocket* s);

// The number after `key` in a Transport header ("server_port=" -> 5000);
// with `second`, the one after its dash ("server_port=5000-5001" -> 5001).
unsigned transport_value(const std::string& transport, const std::string& key,
                         bool second = false);

// Sends `data` to 127.0.0.1:`port`; false if it could not be sent.
bool send_to_loopback(GSocket* s, uint16_t port, const std::string& data);

}  // namespace gms::test
