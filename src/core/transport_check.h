// The Transport header of a SETUP, checked before the library reads it.
//
// gst-rtsp-server 1.22 is lenient where it should refuse: an alternative it
// cannot parse falls back to its defaults, so "garbage" or
// "RTP/AVP;unicast;client_port=70000-1" is answered 200 with a multicast
// group the client never asked for, "client_port=0-0" with RTP sent to port
// 0, and a header longer than its line buffer (4095 bytes) is acted on cut
// short. Every alternative must be well formed here, or the SETUP is
// refused.
#pragma once

#include <string>

namespace gms {

// At most this many comma-separated alternatives in one header.
inline constexpr size_t kMaxTransportAlternatives = 8;

// True if `value` (the header's value) is acceptable; otherwise `why` says
// what is wrong with it.
bool transport_header_ok(const std::string& value, std::string& why);

}  // namespace gms
