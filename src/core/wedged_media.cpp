#include "core/wedged_media.h"

#include <gst/rtsp-server/rtsp-stream.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "core/log.h"
#include "gms/ref.h"

namespace gms {
namespace {

using namespace std::chrono_literals;

// How long a seek goes unwatched (a seek and its preroll take well under
// this), and how long a stream lock may stay taken before the media counts
// as wedged (the library holds it for microseconds otherwise).
constexpr auto kFirstCheck = 3s;
constexpr auto kLockBound = 2s;

// The RTP appsinks of the media's pipeline: the async ones. The RTCP
// appsink (not async) may sit in its new-sample callback waiting for the
// stream's lock; changing its state would wait for it.
std::vector<Ref<GstElement>> rtp_appsinks(GstRTSPMedia* media) {
  std::vector<Ref<GstElement>> out;
  auto element = Ref<GstElement>::adopt(gst_rtsp_media_get_element(media));
  auto parent = Ref<GstObject>::adopt(element ? gst_object_get_parent(GST_OBJECT(element.get()))
                                              : nullptr);
  if (!parent || !GST_IS_BIN(parent.get()))
    return out;
  GstIterator* it = gst_bin_iterate_all_by_element_factory_name(GST_BIN(parent.get()), "appsink");
  if (!it)
    return out;
  GValue item = G_VALUE_INIT;
  while (gst_iterator_next(it, &item) == GST_ITERATOR_OK) {
    auto* sink = GST_ELEMENT(g_value_get_object(&item));
    gboolean async = FALSE;
    g_object_get(sink, "async", &async, nullptr);
    if (async)
      out.push_back(Ref<GstElement>::borrow(sink));
    g_value_reset(&item);
  }
  g_value_unset(&item);
  gst_iterator_free(it);
  return out;
}

}  // namespace

struct SeekWatch::State {
  std::mutex lock;  // a leaf: protects done and locks_taken
  std::condition_variable cv;
  bool done = false;
  unsigned locks_taken = 0;  // lock probes that came back
  std::vector<Ref<GstRTSPStream>> streams;
  std::vector<Ref<GstElement>> sinks;
  std::thread thread;
};

namespace {

// Takes every stream's lock once (gst_rtsp_stream_is_complete() does), on a
// thread of its own: on a wedged media it waits until the sinks are stopped.
void probe_locks(const std::shared_ptr<SeekWatch::State>& s) {
  std::thread([s] {
    for (const auto& stream : s->streams)
      gst_rtsp_stream_is_complete(stream.get());
    std::lock_guard<std::mutex> g(s->lock);
    s->locks_taken++;
    s->cv.notify_all();
  }).detach();
}

void watch(const std::shared_ptr<SeekWatch::State>& s) {
  std::unique_lock<std::mutex> lk(s->lock);
  if (s->cv.wait_for(lk, kFirstCheck, [&] { return s->done; }))
    return;
  for (unsigned asked = 1;; ++asked) {
    lk.unlock();
    probe_locks(s);
    lk.lock();
    if (!s->cv.wait_for(lk, kLockBound, [&] { return s->done || s->locks_taken >= asked; }))
      break;  // wedged
    if (s->done || s->cv.wait_for(lk, kLockBound, [&] { return s->done; }))
      return;
  }
  lk.unlock();
  GMS_LOG_WARN("file media: a seek is stuck on a stream lock held by a TCP send thread; its "
               "TCP output is stopped so that the seek fails and its sessions can end");
  for (const auto& sink : s->sinks) {
    gst_element_set_locked_state(sink.get(), TRUE);
    gst_element_set_state(sink.get(), GST_STATE_NULL);
  }
  // An error on the pipeline puts the media in error at once: the seek
  // stops waiting for a preroll that cannot come (else 20 s), and the
  // file's error handling ends its tracks.
  if (!s->sinks.empty()) {
    GError* err = g_error_new_literal(GST_STREAM_ERROR, GST_STREAM_ERROR_FAILED,
                                      "the TCP send thread of this media was wedged by a seek");
    gst_element_post_message(s->sinks.front().get(),
                             gst_message_new_error(GST_OBJECT(s->sinks.front().get()), err,
                                                   nullptr));
    g_error_free(err);
  }
}

}  // namespace

SeekWatch::SeekWatch(GstRTSPMedia* media) : state_(std::make_shared<State>()) {
  for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i)
    if (GstRTSPStream* stream = gst_rtsp_media_get_stream(media, i))
      state_->streams.push_back(Ref<GstRTSPStream>::borrow(stream));
  state_->sinks = rtp_appsinks(media);
  if (state_->sinks.empty())
    return;  // no TCP viewer: nothing can wedge
  state_->thread = std::thread([s = state_] { watch(s); });
}

SeekWatch::~SeekWatch() {
  {
    std::lock_guard<std::mutex> g(state_->lock);
    state_->done = true;
  }
  state_->cv.notify_all();
  if (state_->thread.joinable())
    state_->thread.join();
}

}  // namespace gms
