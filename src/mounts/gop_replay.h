// Sends the cached key frame of a running relay to UDP viewers that just
// joined it, on a thread of its own, and then hands each to the stream's
// sink (see sink_tap.h).
//
// Why not on the RTSP client thread that handled the PLAY: gst-rtsp-server
// emits play-request with the shared media locked, and a GOP is hundreds of
// packets; a storm of joins then queued every other PLAY of the media behind
// each replay, and with them the connections that share those threads (the
// publisher's among them: the live stream stalled for everyone).
//
// A joiner is out of the sink until its replay is done: it gets its GOP, then
// what the sink rendered meanwhile, in order, and the sink takes over at the
// next packet. At most kActive joiners are served at once, each kBatch
// packets in turn (round robin): each of them catches up in a fraction of a
// second, and no receiver's socket is flooded at once. The others wait their
// turn out of the sink (a storm of a thousand joins takes seconds, and live
// packets sent to them meanwhile would overtake their key frames by as
// long); one that waited past a newer key frame starts there.
#pragma once

#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <memory>
#include <vector>

#include "gms/ref.h"
#include "mounts/sink_tap.h"

namespace gms::mounts {

struct GopReplayJob {
  Ref<GstRTSPStreamTransport> trans;  // for the sessions' sent counters
  Ref<GSocket> socket;                // the stream's RTP socket (shared)
  Ref<GSocketAddress> dest;
  std::vector<Ref<GstBuffer>> packets;  // the GOP, oldest first (RTP-Info names the first)
  Ref<GstElement> sink;                 // the stream's RTP sink, which the viewer is out of
  std::shared_ptr<SinkTap> tap;         // of `sink`
  std::shared_ptr<TapWaiter> waiter;    // the viewer in `tap`
};

class GopReplayer {
 public:
  static GopReplayer& instance();
  void add(GopReplayJob job);
  static constexpr size_t kBatch = 32;
  static constexpr size_t kActive = 64;

 private:
  GopReplayer() = default;
  void run();

  std::mutex mutex_;  // protects incoming_ and started_ (the thread owns the jobs it took)
  std::condition_variable cv_;
  std::deque<GopReplayJob> incoming_;
  bool started_ = false;
};

// The packets of `later` that follow `sent` (by RTP sequence number),
// appended to it.
void append_newer(std::vector<Ref<GstBuffer>>& sent, const std::vector<Ref<GstBuffer>>& later);

// What a relay reader (msrelaysrc) output since its last key frame, oldest
// first (its get-gop action signal); empty if it has none.
std::vector<Ref<GstBuffer>> reader_gop(GstElement* reader);

}  // namespace gms::mounts
