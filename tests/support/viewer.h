// An in-process RTSP viewer: uridecodebin on rtspsrc, decoded frames counted
// per media type, errors and EOS recorded from the bus.
#pragma once

#include <gst/gst.h>

#include <atomic>
#include <mutex>
#include <string>

#include "gms/ref.h"

namespace gms::test {

class Viewer {
 public:
  // protocols: "udp", "tcp" or "udp-mcast" (rtspsrc's names).
  Viewer(const std::string& url, const std::string& protocols);
  ~Viewer();
  Viewer(const Viewer&) = delete;
  Viewer& operator=(const Viewer&) = delete;

  unsigned video_frames() const { return video_frames_; }
  unsigned audio_buffers() const { return audio_buffers_; }
  int width() const { return width_; }
  int height() const { return height_; }
  bool got_eos() const { return eos_; }
  std::string error() const;
  // Last video PTS seen, to check that time does not go back.
  GstClockTime last_video_pts() const { return last_pts_; }
  bool pts_went_back() const { return pts_back_; }
  // For failure messages: decoded outputs, how many saw EOS, frames, errors.
  std::string state() const;

 private:
  static void on_pad_added(GstElement*, GstPad* pad, gpointer self) noexcept;
  static void on_source_setup(GstElement*, GstElement* src, gpointer self) noexcept;
  static GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept;
  static GstPadProbeReturn on_event(GstPad*, GstPadProbeInfo* info, gpointer self) noexcept;
  static gboolean on_bus(GstBus*, GstMessage* msg, gpointer self) noexcept;

  std::string protocols_;
  Ref<GstElement> pipeline_;
  guint bus_watch_ = 0;
  std::atomic<unsigned> video_frames_{0}, audio_buffers_{0};
  std::atomic<unsigned> outputs_{0}, outputs_eos_{0};
  std::atomic<int> width_{0}, height_{0};
  std::atomic<bool> eos_{false}, pts_back_{false};
  std::atomic<GstClockTime> last_pts_{GST_CLOCK_TIME_NONE};
  mutable std::mutex lock_;
  std::string error_;
};

}  // namespace gms::test
