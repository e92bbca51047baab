// Holds UDP viewers that join a running relay out of its RTP sink until their
// cached key frame has been sent to them, and hands each back to the sink at
// the packet where that replay ends.
//
// Why: gst-rtsp-server adds a joiner to the stream's multiudpsink at its
// PLAY (after the reply), so live packets reached it at once while its GOP
// (hundreds of packets) was still being sent by the replay thread. In a storm of joins the last
// packets of a GOP then came seconds after newer live ones, and a player's
// jitterbuffer (100-200 ms) had given them up: the picture broke until the
// next key frame. Taken out of the sink, the joiner gets its GOP and what the
// sink rendered meanwhile from the replay thread, in order, and then the
// sink's packets from the next one on: every packet once.
//
// The joiner is held from its PLAY's pre-play-request on, before the library
// adds it (gst_rtsp_media_complete_pipeline(), before the reply):
// the library's "add" for it is swallowed (a handler stops the emission),
// and the hand-back emits it. Its "remove" (TEARDOWN, PAUSE, the session's
// end) cancels the hold, so that a viewer that left is never added back.
//
// Thread-safety: the sink's streaming thread (pad probe), RTSP client threads
// (hold, the library's "add" and "remove") and the replay thread call in.
// Lock order: the library's stream lock, then mutex_, then the sink's own
// client lock (the hand-back's "add" is emitted under mutex_, so that the
// library's "remove" can never come between the check and the add).
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::mounts {

// One viewer taken out of a sink. Guarded by its SinkTap's mutex.
struct TapWaiter {
  std::string host;
  int port = 0;
  std::vector<Ref<GstBuffer>> packets;  // rendered by the sink since, not yet taken
  bool from_key = false;  // packets start at a key frame: an older start was dropped
  bool started = false;   // its replay is sending: keep every packet from now on
  bool ready = false;     // its replay sent everything: the sink's next newer packet is its
  uint16_t last_sent = 0;  // the sequence number the replay ended at (when ready)
  bool done = false;      // given back to the sink, or gone (the library removed it)
  gint64 since_us = 0;    // held since (monotonic): a hold whose PLAY failed expires
};

class SinkTap {
 public:
  // The tap of a multiudpsink, made (probe, "remove" handler) at the first
  // call and kept as long as the sink.
  static std::shared_ptr<SinkTap> of(GstElement* sink);
  // The RTP multiudpsink of `media`'s pipeline that sends from `socket`.
  static Ref<GstElement> rtp_sink(GstElement* pipeline, GSocket* socket);

  // Keeps host:port out of the sink (the library's coming "add" is
  // swallowed) and collects what the sink renders from now on. Call it
  // before the library adds the viewer (pre-play-request), and take the
  // reader's output for the viewer after it.
  std::shared_ptr<TapWaiter> hold(const std::string& host, int port);
  // Moves what was collected into `out`; the waiter counts as started.
  // Returns whether the collected packets start at a key frame (the waiter
  // waited past one: what came before it is not needed).
  bool take(TapWaiter& w, std::vector<Ref<GstBuffer>>& out);
  // When nothing was collected since the last take: the sink sends to the
  // viewer from its next packet after `last_sent` on (true). False if
  // packets came (take them first) or the waiter is done.
  bool ready_if_drained(TapWaiter& w, uint16_t last_sent);
  // Gives the viewer back to the sink now (a replay that cannot finish, or
  // none to send).
  void release(TapWaiter& w);
  // Forgets the viewer without giving it back (its PLAY failed).
  void cancel(TapWaiter& w);
  bool done(const TapWaiter& w);

  explicit SinkTap(GstElement* sink) : sink_(sink) {}

 private:
  static GstPadProbeReturn on_data(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept;
  static void on_remove(GstElement*, const gchar* host, gint port, gpointer self) noexcept;
  static void on_add(GstElement* sink, const gchar* host, gint port, gpointer self) noexcept;
  void collect(GstBuffer* buffer);
  void hand_over_locked(TapWaiter& w, GstPadProbeInfo* info);
  void give_back_locked(TapWaiter& w);
  bool expired(const TapWaiter& w) const;

  GstElement* const sink_;  // owns this tap (qdata)
  std::mutex mutex_;        // protects waiters_ and every TapWaiter
  std::vector<std::shared_ptr<TapWaiter>> waiters_;
};

}  // namespace gms::mounts
