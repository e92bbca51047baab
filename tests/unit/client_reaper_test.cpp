// A closed TCP viewer's client is kept while a stream still sends to it
// (core/tcp_transport_fence.h, core/client_reaper.h).
//
// gst-rtsp-server 1.22 hands a TCP viewer's stream transport callbacks that
// read the viewer's client without holding it. A session removed from the
// pool before its client cleaned it up keeps its media playing, and the
// viewer's transport in the stream, for as long as something holds the
// session (the server's own stop, the sessions API, the look for dropped
// viewers all hold sessions for a moment). The test holds one for as long
// as it likes: the viewer's connection closes meanwhile, and the stream goes
// on sending to its transport. Before the fence the client was freed there
// and the stream's send thread read it (under AddressSanitizer: a
// heap-use-after-free in the library's get_data_seq, every run).
#include <gtest/gtest.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <gst-mediaserver/server.h>

#include "context_thread.h"
#include "core/client_guard.h"
#include "core/client_reaper.h"
#include "core/tcp_transport_fence.h"
#include "gms/ref.h"
#include "process.h"
#include "rtsp_raw.h"

namespace gms::test {
namespace {

using namespace std::chrono_literals;

constexpr char kLine[] =
    "( videotestsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=30/1 "
    "! jpegenc ! rtpjpegpay name=pay0 pt=26 )";

// Set when a client of the server is finalized (its qdata goes with it).
struct Finalized {
  std::atomic<int> count{0};
  std::atomic<int> connected{0};
};

void on_client_connected(GstRTSPServer*, GstRTSPClient* client, gpointer data) noexcept {
  auto* f = static_cast<Finalized*>(data);
  f->connected++;
  g_object_set_data_full(G_OBJECT(client), "test-finalized", f, [](gpointer p) {
    static_cast<Finalized*>(p)->count++;
  });
}

// TCP transports of every stream of the pool's sessions.
unsigned transports_in_streams(GstRTSPSession* session) {
  unsigned n = 0;
  GList* medias = gst_rtsp_session_filter(session, nullptr, nullptr);
  for (GList* m = medias; m; m = m->next) {
    auto* sm = static_cast<GstRTSPSessionMedia*>(m->data);
    GstRTSPMedia* media = gst_rtsp_session_media_get_media(sm);
    for (guint i = 0; i < gst_rtsp_media_n_streams(media); ++i) {
      GList* ts = gst_rtsp_stream_transport_filter(gst_rtsp_media_get_stream(media, i), nullptr,
                                                   nullptr);
      n += g_list_length(ts);
      g_list_free_full(ts, g_object_unref);
    }
  }
  g_list_free_full(medias, g_object_unref);
  return n;
}

TEST(ClientReaper, ClosedViewerIsKeptWhileAStreamStillSendsToIt) {
  Finalized finalized;
  Ref<GstRTSPServer> server;
  ContextThread thread([&] {
    server = Ref<GstRTSPServer>::adopt(new_rtsp_server());
    add_tcp_transport_fence(client_signals(server.get()));
    gst_rtsp_server_set_address(server.get(), "127.0.0.1");
    gst_rtsp_server_set_service(server.get(), "0");
    auto mounts = Ref<GstRTSPMountPoints>::adopt(gst_rtsp_server_get_mount_points(server.get()));
    GstRTSPMediaFactory* factory = gst_rtsp_media_factory_new();
    gst_rtsp_media_factory_set_launch(factory, kLine);
    gst_rtsp_media_factory_set_shared(factory, TRUE);
    gst_rtsp_mount_points_add_factory(mounts.get(), "/t", factory);
    g_signal_connect(server.get(), "client-connected", G_CALLBACK(on_client_connected),
                     &finalized);
    gst_rtsp_server_attach(server.get(), g_main_context_get_thread_default());
  });
  const auto port = uint16_t(gst_rtsp_server_get_bound_port(server.get()));
  auto pool = Ref<GstRTSPSessionPool>::adopt(gst_rtsp_server_get_session_pool(server.get()));
  const std::string url = "rtsp://127.0.0.1:" + std::to_string(port) + "/t";

  Ref<GstRTSPSession> held;
  {
    RawRtsp viewer(port);
    std::string id = play_over_tcp(viewer, url);
    ASSERT_FALSE(id.empty());
    RawRtsp::Frame f = viewer.read_interleaved(5s);
    ASSERT_EQ(f.channel, 0) << "no RTP came";
    held = Ref<GstRTSPSession>::adopt(gst_rtsp_session_pool_find(pool.get(), id.c_str()));
    ASSERT_TRUE(held);
    // Out of the pool, as a stop or DELETE does: the client forgets it, its
    // media plays on while the test holds it.
    gst_rtsp_session_pool_remove(pool.get(), held.get());
  }  // the viewer's connection closes
  ASSERT_TRUE(wait_until([] { return ClientReaper::instance().held() == 1; }, 5s))
      << "the closed client was not handed to the reaper";
  // The stream sends to the transport for a while (30 packets a second and
  // more): the client stays.
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(transports_in_streams(held.get()), 1u);
    EXPECT_EQ(finalized.count.load(), 0) << "the client went while a stream sends to it";
    g_usleep(100 * 1000);
  }
  held.reset();  // the session goes, and with it the transport
  EXPECT_TRUE(wait_until([&] { return finalized.count.load() == 1; }, 5s))
      << "the client was never let go";
  EXPECT_EQ(ClientReaper::instance().held(), 0u);
  EXPECT_TRUE(wait_for_closed_clients(1000));
  thread.stop();
}

}  // namespace
}  // namespace gms::test
