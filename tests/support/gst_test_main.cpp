// main() for GoogleTest binaries that use GStreamer: our elements are
// registered without a registry, and criticals fail the test (GstCheck's rule)
// with the stack they came from.
#include <gst-mediaserver/server.h>
#include <gst/gst.h>
#include <gtest/gtest.h>

#include "critical_trace.h"
#include "elements.h"

int main(int argc, char** argv) {
  gms::test::trace_criticals();
  gst_init(&argc, &argv);
  gms_register_elements(nullptr);
  g_log_set_always_fatal(GLogLevelFlags(G_LOG_LEVEL_CRITICAL | G_LOG_FATAL_MASK));
  testing::InitGoogleTest(&argc, argv);
  int rc = RUN_ALL_TESTS();
  // Proxy back-end pipelines are stopped in the background; not under them.
  if (gms::wait_for_backend_stops(5000))
    gst_deinit();
  return rc;
}
