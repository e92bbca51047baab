// gst-mediaserver beside a stock gst-rtsp-server program doing the same
// job, one scenario per run (the meson benchmark suite "bench" runs each):
//   build/tests/vs_stock fanout|proxy|files|record
// GMS_BENCH_FULL=1: the long sweep (up to 3000 viewers). Rows go to
// $GMS_BENCH_RESULTS_DIR/SCENARIO.json (default build/bench/).
#include <gst/gst.h>

#include <cstdio>
#include <string>

#include "scenarios.h"

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::string s = argc > 1 ? argv[1] : "";
  if (s == "fanout")
    return gms::test::bench_fanout();
  if (s == "proxy")
    return gms::test::bench_proxy();
  if (s == "files")
    return gms::test::bench_files();
  if (s == "record")
    return gms::test::bench_record();
  fprintf(stderr, "usage: %s fanout|proxy|files|record\n", argv[0]);
  return 2;
}
