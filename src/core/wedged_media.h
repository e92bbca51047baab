// A file media that a seek wedges in gst-rtsp-server 1.22, and a watch that
// frees it.
//
// The TCP appsink (max-buffers=1) holds a list its stream's send thread was
// told about but did not pull yet (the viewer was backpressured); the seek's
// flush drops it. The send thread then waits in gst_app_sink_pull_sample()
// for the next list while holding the stream's lock, and the next list never
// comes: the streaming thread that would push it waits for the same lock
// (the stream's caps-notify handler), and so do the RTCP appsink's
// new-sample callback, the seek itself (gst_rtsp_stream_set_blocked()), the
// later PLAYs, the TEARDOWN and the connection's cleanup (all three seen in
// backtraces of a hung server). Only the appsink can end that wait: once
// stopped, its pull returns nothing, the send thread lets go of the lock,
// and the seek fails (the media is in error), which the client is told.
#pragma once

#include <gst/rtsp-server/rtsp-media.h>

#include <memory>

namespace gms {

// Watches one seek of `media` (an RTSP client thread, before
// gst_rtsp_media_seek_trickmode()) until it is destroyed (the seek returned).
// While the seek takes longer than a moment, a thread of its own checks
// that the media's stream locks can still be taken; when one cannot within
// a bound, the media's RTP appsinks are stopped.
class SeekWatch {
 public:
  explicit SeekWatch(GstRTSPMedia* media);
  ~SeekWatch();
  SeekWatch(const SeekWatch&) = delete;
  SeekWatch& operator=(const SeekWatch&) = delete;

  struct State;  // shared with the watching thread

 private:
  std::shared_ptr<State> state_;
};

}  // namespace gms
