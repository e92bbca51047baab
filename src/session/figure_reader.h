// Reads what a session sent or received, on the control context, from what
// gst-rtsp-server 1.22 exposes without help:
//
// - a UDP viewer: its entry in the stream's multiudpsink ("get-stats": the
//   RTP bytes and packets sent to its address and port);
// - a TCP or tunnelled viewer: the kernel's count of the bytes its
//   connection sent (TCP_INFO bytes_sent: RTP with its interleaved
//   framing, RTCP and the RTSP replies), and the RTP packets its streams
//   gave it (tcp_sent.h);
// - a publisher: the RTP session's remote senders (bytes and packets);
// - loss: the viewer's RTCP receiver reports, matched by the address its
//   RTCP came from (UDP), or the one report without an address (TCP) when
//   there is exactly one.
//
// One reader per pass: each stream's RTP statistics are made once however
// many viewers share it.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-session.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <map>
#include <memory>
#include <vector>

#include "gms/ref.h"
#include "session/session_info.h"

namespace gms::session {

class FigureReader {
 public:
  FigureReader() = default;
  ~FigureReader();
  FigureReader(const FigureReader&) = delete;
  FigureReader& operator=(const FigureReader&) = delete;

  // `client` may be null (its connection is then not asked).
  Figures read(GstRTSPSession* session, GstRTSPClient* client);

 private:
  const GstStructure* rtp_stats(GstRTSPStream* stream);
  const std::vector<Ref<GstElement>>& udp_sinks(GstRTSPStream* stream);

  std::map<GstRTSPStream*, GstStructure*> stats_;  // owned
  std::map<GstBin*, std::vector<Ref<GstElement>>> sinks_;
};

// Packets sent to one viewer past the stream's sinks (a late joiner's
// cached key frame, sent on the stream's UDP socket or its TCP
// connection): counted with its multiudpsink entry or its stream's count.
// Any thread.
void add_sent_beside_sinks(GstRTSPStreamTransport* trans, uint64_t bytes, uint64_t packets);

// "udp", "udp-multicast", "tcp" or "http-tunnel" for a session's transport.
std::string transport_name(const GstRTSPTransport* t, GstRTSPClient* client);

}  // namespace gms::session
