#include "core/pipeline_cap.h"

namespace gms {
namespace {

const char kHold[] = "gms-pipeline-hold";

}  // namespace

void PipelineCap::State::release(bool& counted) {
  std::lock_guard<std::mutex> g(lock);
  if (!counted)
    return;
  counted = false;
  count--;
}

// Emitted by the library when the media's pipeline went to NULL (the last
// viewer left, its session timed out, or its preparation failed).
void PipelineCap::on_unprepared(GstRTSPMedia*, gpointer data) noexcept {
  auto* hold = static_cast<Hold*>(data);
  if (auto state = hold->state.lock())
    state->release(hold->counted);
}

// A media finalized without its "unprepared" (never prepared after all).
void PipelineCap::free_hold(gpointer data) noexcept {
  auto* hold = static_cast<Hold*>(data);
  if (auto state = hold->state.lock())
    state->release(hold->counted);
  delete hold;
}

bool PipelineCap::admit(GstRTSPMedia* media, std::string& why) {
  if (gst_rtsp_media_get_transport_mode(media) & GST_RTSP_TRANSPORT_MODE_RECORD)
    return true;
  std::lock_guard<std::mutex> g(state_->lock);
  auto* hold = static_cast<Hold*>(g_object_get_data(G_OBJECT(media), kHold));
  if (hold && hold->counted)
    return true;
  // A shared media another viewer prepares or prepared: no new pipeline.
  if (gst_rtsp_media_get_status(media) != GST_RTSP_MEDIA_STATUS_UNPREPARED)
    return true;
  const unsigned max = state_->max;
  if (max > 0 && state_->count >= max) {
    state_->refusals++;
    why = "max-pipelines (" + std::to_string(max) + ") reached";
    return false;
  }
  if (!hold) {
    hold = new Hold{state_};
    g_object_set_data_full(G_OBJECT(media), kHold, hold, free_hold);
    g_signal_connect(media, "unprepared", G_CALLBACK(on_unprepared), hold);
  }
  hold->counted = true;
  state_->count++;
  return true;
}

unsigned PipelineCap::prepared() const {
  std::lock_guard<std::mutex> g(state_->lock);
  return state_->count;
}

}  // namespace gms
