// Added latency of a relay: an origin (gst-mediaserver, H.264 at 30 fps),
// our proxy in front of it, and the stock gst-rtsp-server program
// (stock_server: `rtspsrc ! depay ! parse ! pay` in a shared launch factory)
// in front of it too. Three viewers (origin, proxy, stock) note when each
// RTP payload arrives; a payload seen at the origin viewer and at a relay
// viewer gives that relay's added delay. Prints p50/p95/p99 for both relays.
//
//   build/tests/relay_latency [seconds] [WIDTH,height=HEIGHT] [udp|tcp]
#include <gst/gst.h>

#include <cstdio>
#include <string>
#include <vector>

#include "arrivals.h"
#include "bench_results.h"
#include "process.h"
#include "stock_process.h"

using namespace gms::test;

namespace {

std::string origin_line(const std::string& size) {
  return "videotestsrc is-live=true ! video/x-raw,width=" + size +
         ",framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=3000 "
         "key-int-max=60 ! rtph264pay name=pay0 pt=96 config-interval=-1";
}

void report(const char* name, const std::vector<double>& d) {
  if (d.empty()) {
    printf("%-32s no matching packets\n", name);
    return;
  }
  printf("%-32s packets %6zu  added latency p50 %7.2f ms  p95 %7.2f ms  p99 %7.2f ms\n", name,
         d.size(), quantile(d, 0.50), quantile(d, 0.95), quantile(d, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  int seconds = argc > 1 ? atoi(argv[1]) : 10;
  std::string size = argc > 2 ? argv[2] : "1280,height=720";  // e.g. "320,height=240"
  std::string protocol = argc > 3 ? argv[3] : "udp";            // udp or tcp
  ServerProcess origin({"--mount", "/o=" + origin_line(size)});
  ServerProcess proxy({"--proxy", origin.url("/o")});
  StockServer stock({"relay", "/stock",
                     "rtspsrc location=" + origin.url("/o") +
                         " latency=0 ! rtph264depay ! h264parse ! rtph264pay name=pay0 pt=96 "
                         "config-interval=-1"});
  if (!origin.ready() || !proxy.ready() || !stock.ready()) {
    fprintf(stderr, "servers did not start\n");
    return 1;
  }
  ArrivalViewer v_origin(origin.url("/o"), protocol);
  ArrivalViewer v_proxy(proxy.url("/proxyStream"), protocol);
  ArrivalViewer v_stock(stock.url("/stock"), protocol);
  wait_until([] { return false; }, std::chrono::seconds(seconds));
  printf("relay latency over loopback, %s 30 fps H.264, %d s, %s viewers\n", size.c_str(),
         seconds, protocol.c_str());
  report("gst-mediaserver proxy", v_proxy.delays_after(v_origin));
  report("stock gst-rtsp-server relay", v_stock.delays_after(v_origin));
  return 0;
}
