// RTP sessions slow to end, for the relay's end-of-stream cases, loaded into
// the server with LD_PRELOAD: the EOS an RTP session pushes on its RTCP
// source pad, right after its BYE, is held $GMS_RTCP_EOS_DELAY_MS (1000 by
// default) first, as on a machine whose streaming threads are starved. The
// viewers have the BYE by then; the media's sinks get their EOS (and the
// pipeline its EOS message) only afterwards. One line on stderr per hold.
// rtpmanager calls gst_pad_push_event() through the dynamic linker, so it is
// caught here.
#include <dlfcn.h>
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

using PushEvent = gboolean (*)(GstPad*, GstEvent*);

bool is_rtcp_source(GstPad* pad) {
  const char* name = GST_OBJECT_NAME(pad);
  return name && std::strncmp(name, "send_rtcp_src", std::strlen("send_rtcp_src")) == 0;
}

unsigned delay_ms() {
  const char* v = std::getenv("GMS_RTCP_EOS_DELAY_MS");
  return v && *v ? unsigned(std::strtoul(v, nullptr, 10)) : 1000u;
}

}  // namespace

extern "C" gboolean gst_pad_push_event(GstPad* pad, GstEvent* event) {
  static auto real = reinterpret_cast<PushEvent>(dlsym(RTLD_NEXT, "gst_pad_push_event"));
  if (event && GST_EVENT_TYPE(event) == GST_EVENT_EOS && pad && is_rtcp_source(pad)) {
    unsigned ms = delay_ms();
    std::fprintf(stderr, "late-rtcp-eos shim: EOS on %s held %u ms\n", GST_OBJECT_NAME(pad), ms);
    g_usleep(gulong(ms) * 1000);
  }
  return real(pad, event);
}
