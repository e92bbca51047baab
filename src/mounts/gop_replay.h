// Sends the cached key frame of a running relay to UDP viewers that just
// joined it, on a thread of its own.
//
// Why not on the RTSP client thread that handled the PLAY: gst-rtsp-server
// emits play-request with the shared media locked, and a GOP is hundreds of
// packets; a storm of joins then queued every other PLAY of the media behind
// each replay, and with them the connections that share those threads (the
// publisher's among them: the live stream stalled for everyone).
//
// Each viewer gets kBatch packets in turn (round robin): a thousand joiners
// all get their key frame first, instead of the last one waiting for the
// whole GOP of all the others, and no receiver's socket is flooded at once.
#pragma once

#include <gst/rtsp-server/rtsp-stream-transport.h>

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <vector>

#include "gms/ref.h"

namespace gms::mounts {

struct GopReplayJob {
  Ref<GstRTSPStreamTransport> trans;  // for the sessions' sent counters
  Ref<GSocket> socket;                // the stream's RTP socket (shared)
  Ref<GSocketAddress> dest;
  std::vector<Ref<GstBuffer>> packets;
};

class GopReplayer {
 public:
  static GopReplayer& instance();
  void add(GopReplayJob job);
  static constexpr size_t kBatch = 16;

 private:
  GopReplayer() = default;
  void run();

  std::mutex mutex_;  // protects incoming_ and started_ (the thread owns the active jobs)
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
