// A UDP publisher's packets must come from the host it speaks RTSP from.
// gst-rtsp-server 1.22's udpsrc takes a datagram from any sender, so
// anyone who guesses the server port of a publisher (a small range) could
// take its stream over: a third party that sends with the publisher's SSRC
// before the publisher's first packet is the source rtpbin keeps, and the
// publisher's own packets are then dropped as a collision.
#pragma once

#include <gst/gst.h>

#include <memory>
#include <string>

namespace gms::mounts {

struct SourceAddressFilter;
using SourceAddressFilterPtr = std::shared_ptr<SourceAddressFilter>;

// What `path`'s publisher may send from: `publisher_ip`, its RTSP
// connection's peer. Null when that is not an address.
SourceAddressFilterPtr source_address_filter(const std::string& path,
                                             const std::string& publisher_ip);

// Drops what arrives on `pad` (a udpsrc's src pad) from any other address.
// Counted, and logged at most every 10 s per publisher.
void filter_source_address(GstPad* pad, const SourceAddressFilterPtr& filter);

}  // namespace gms::mounts
