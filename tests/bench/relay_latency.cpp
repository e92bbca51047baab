// Added latency of a relay: an origin (gst-mediaserver, H.264 at 30 fps),
// our proxy in front of it, and a stock gst-rtsp-server relay
// ("rtspsrc ! depay ! parse ! pay" in a shared launch factory) in front of
// it too. Three UDP viewers (origin, proxy, stock) log when each RTP payload
// arrives; a payload seen at the origin viewer and at a relay viewer gives
// that relay's added delay. Prints p50/p95/p99 for both relays.
//
//   build/tests/relay_latency [seconds] [WIDTH,height=HEIGHT] [udp|tcp]
#include <gst/gst.h>
#include <gst/rtp/gstrtpbuffer.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "process.h"

using namespace gms::test;

namespace {

std::string origin_line(const std::string& size) {
  return "videotestsrc is-live=true ! video/x-raw,width=" + size +
         ",framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=3000 "
         "key-int-max=60 ! rtph264pay name=pay0 pt=96 config-interval=-1";
}

struct Arrivals {
  std::mutex lock;
  std::map<uint32_t, gint64> at;  // payload CRC → first arrival (µs)
};

uint32_t crc(const guint8* d, gsize n) {
  uint32_t h = 2166136261u;
  for (gsize i = 0; i < n; ++i)
    h = (h ^ d[i]) * 16777619u;
  return h;
}

GstPadProbeReturn on_rtp(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* a = static_cast<Arrivals*>(data);
  gint64 now = g_get_monotonic_time();
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  if (gst_rtp_buffer_map(GST_PAD_PROBE_INFO_BUFFER(info), GST_MAP_READ, &rtp)) {
    uint32_t h = crc(static_cast<const guint8*>(gst_rtp_buffer_get_payload(&rtp)),
                     gst_rtp_buffer_get_payload_len(&rtp));
    gst_rtp_buffer_unmap(&rtp);
    std::lock_guard<std::mutex> g(a->lock);
    a->at.emplace(h, now);
  }
  return GST_PAD_PROBE_OK;
}

// udpsrc-level arrival: a probe on rtspsrc's internal udpsrc pads would need
// private names, so the probe sits on rtspsrc's output with latency 0 and
// no jitterbuffer wait (buffer-mode none): packets leave as they come.
std::string g_protocol = "udp";

GstElement* viewer(const std::string& url, Arrivals* a) {
  GstElement* pipe = gst_parse_launch(
      ("rtspsrc name=src protocols=" + g_protocol + " latency=0 buffer-mode=none location=" + url +
       " ! fakesink name=sink sync=false async=false")
          .c_str(),
      nullptr);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipe), "sink");
  GstPad* pad = gst_element_get_static_pad(sink, "sink");
  gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_BUFFER, on_rtp, a, nullptr);
  gst_object_unref(pad);
  gst_object_unref(sink);
  gst_element_set_state(pipe, GST_STATE_PLAYING);
  return pipe;
}

void report(const char* name, Arrivals& origin, Arrivals& relay) {
  std::vector<double> d;
  {
    std::lock_guard<std::mutex> g1(origin.lock), g2(relay.lock);
    for (const auto& [h, t] : relay.at)
      if (auto it = origin.at.find(h); it != origin.at.end())
        d.push_back((t - it->second) / 1000.0);
  }
  if (d.empty()) {
    printf("%-32s no matching packets\n", name);
    return;
  }
  std::sort(d.begin(), d.end());
  auto pct = [&](double p) { return d[std::min(d.size() - 1, size_t(p * d.size()))]; };
  printf("%-32s packets %6zu  added latency p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms\n", name,
         d.size(), pct(0.50), pct(0.95), pct(0.99));
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  int seconds = argc > 1 ? atoi(argv[1]) : 10;
  std::string size = argc > 2 ? argv[2] : "1280,height=720";  // e.g. "320,height=240"
  if (argc > 3)
    g_protocol = argv[3];  // udp or tcp
  ServerProcess origin({"--mount", "/o=" + origin_line(size)});
  ServerProcess proxy({"--proxy", origin.url("/o")});
  ServerProcess stock({"--mount", "/stock=rtspsrc location=" + origin.url("/o") +
                                      " latency=0 ! rtph264depay ! h264parse ! "
                                      "rtph264pay name=pay0 pt=96 config-interval=-1"});
  if (!origin.ready() || !proxy.ready() || !stock.ready()) {
    fprintf(stderr, "servers did not start\n");
    return 1;
  }
  Arrivals a_origin, a_proxy, a_stock;
  GstElement* v1 = viewer(origin.url("/o"), &a_origin);
  GstElement* v2 = viewer(proxy.url("/proxyStream"), &a_proxy);
  GstElement* v3 = viewer(stock.url("/stock"), &a_stock);
  wait_until([] { return false; }, std::chrono::seconds(seconds));
  printf("relay latency over loopback, %s 30 fps H.264, %d s, %s viewers\n", size.c_str(),
         seconds, g_protocol.c_str());
  report("gst-mediaserver proxy", a_origin, a_proxy);
  report("stock gst-rtsp-server relay", a_origin, a_stock);
  for (GstElement* v : {v1, v2, v3}) {
    gst_element_set_state(v, GST_STATE_NULL);
    gst_object_unref(v);
  }
  return 0;
}
