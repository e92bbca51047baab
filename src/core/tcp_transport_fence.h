// Keeps gst-rtsp-server's TCP send threads from calling into a client that
// has been freed.
//
// gst-rtsp-server 1.22 gives each stream transport of an interleaved (TCP or
// HTTP-tunnelled) viewer callbacks whose data is the viewer's GstRTSPClient,
// without holding a reference to it; a stream's send thread calls them for
// every TCP transport in the stream. A transport normally leaves its stream
// as the client closes (the library stops the client's sessions then). But a
// session taken out of the pool before its client cleaned it up (a stop, the
// sessions API's DELETE, a dropped viewer, a revoked user) is no longer the
// client's: its media plays on, with the transport in the stream, until the
// session itself is freed, and anything holding the session for a moment
// (the stop's own pass over the pool, a look at the sessions) keeps it so.
// The client, closed meanwhile, was freed and the send thread read it: the
// server died with SIGSEGV in the library's get_data_seq() when it stopped
// with 100 TCP file viewers leaving (1 run in 8). None of the library's calls
// that would cut the callbacks off (its back-pressure callback setter, the
// transport's backlog lock) is exported.
//
// So the client is kept instead: the fence remembers the TCP transports a
// client played or recorded on; when the client's last reference goes,
// ClientReaper (client_reaper.h) takes a new one and lets go of it once
// every remembered transport is out of its stream. That is enough: the
// library takes a transport out under the stream's lock and clears its
// backlog, which a send thread's pass checks before calling back, and the
// reaper looks under the same lock.
//
// A transport only the fence still holds is forgotten at the client's next
// PLAY or RECORD, so a connection that plays one session after another does
// not keep them all.
//
// Thread-safety: the methods lock the fence (a leaf lock: nothing else is
// taken under it but gst-rtsp-server's stream locks, in quiet()).
#pragma once

#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-session-media.h>
#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <mutex>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "gms/ref.h"

namespace gms {

class ClientSignals;

// The transports of each stream, read once per look of the reaper.
class StreamLook {
 public:
  bool has(GstRTSPStream* stream, GstRTSPStreamTransport* trans);

 private:
  std::unordered_map<GstRTSPStream*, std::unordered_set<GstRTSPStreamTransport*>> seen_;
};

class TcpTransportFence {
 public:
  // The interleaved transports of `sessmedia` (PLAY and RECORD, on the
  // client's thread).
  void remember(GstRTSPSessionMedia* sessmedia);
  bool empty();
  // True once every transport is out of its stream.
  bool quiet(StreamLook& look);
  void forget();

 private:
  std::mutex lock_;  // protects transports_
  std::vector<Ref<GstRTSPStreamTransport>> transports_;
};

// The fence of a client made by new_rtsp_server() (nullptr for others).
// Defined with the client type (client_guard.cpp).
TcpTransportFence* tcp_transport_fence(GstRTSPClient* client);

// Remembers the transports at every PLAY and RECORD of the server's clients
// that the handlers added before it let through: add it after those that
// refuse a request naming another connection's session (client_guard.h).
void add_tcp_transport_fence(ClientSignals& signals);

}  // namespace gms
