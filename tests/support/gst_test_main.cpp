// main() for GoogleTest binaries that use GStreamer: our elements are
// registered from the code linked into the test, never from the plugin file
// (static_elements.h), and criticals fail the test (GstCheck's rule) with the
// stack they came from.
#include <gst-mediaserver/server.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "critical_trace.h"
#include "static_elements.h"

int main(int argc, char** argv) {
  gms::test::trace_criticals();
  if (!gms::test::init_gst_with_static_elements(&argc, &argv))
    return 1;
  g_log_set_always_fatal(GLogLevelFlags(G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK));
  testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  // Proxy back-end pipelines are stopped in the background, and closed TCP
  // viewers let go in the background: not under them.
  if (gms::wait_for_backend_stops(5000) && gms::wait_for_closed_clients(5000))
    gst_deinit();
  return rc;
}
