// When each RTP payload reached an in-process viewer (rtspsrc with no
// jitterbuffer wait): the same payload at two viewers gives the delay a
// relay between them adds.
#pragma once

#include <gst/gst.h>

#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace gms::test {

class ArrivalViewer {
 public:
  // protocol: "udp" or "tcp".
  ArrivalViewer(const std::string& url, const std::string& protocol);
  ~ArrivalViewer();
  ArrivalViewer(const ArrivalViewer&) = delete;
  ArrivalViewer& operator=(const ArrivalViewer&) = delete;

  // Delays (ms) of this viewer's payloads after `origin`'s, for payloads
  // that reached the origin viewer between from and to (monotonic µs; 0 = any).
  std::vector<double> delays_after(ArrivalViewer& origin, gint64 from = 0, gint64 to = 0);

 private:
  static GstPadProbeReturn on_buffer(GstPad*, GstPadProbeInfo* info, gpointer self);
  GstElement* pipe_ = nullptr;
  std::mutex lock_;                 // protects at_
  std::map<uint32_t, std::vector<gint64>> at_;  // payload hash → arrivals (µs)
};

}  // namespace gms::test
