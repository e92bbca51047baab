// A stock gst-rtsp-server 1.22 program for the benchmarks to compare with:
// the library used the way its own examples use it (test-launch, test-mp4,
// test-record), nothing of gst-mediaserver linked in. One job per process:
//
//   stock_server PORT relay PATH 'LAUNCH LINE'
//       test-launch style: one shared factory (shared=TRUE), e.g. an
//       `rtspsrc ! rtph264depay ! h264parse ! rtph264pay` relay of a back end.
//   stock_server PORT files DIR
//       test-mp4 style: one factory per *.mp4 in DIR at /NAME.mp4, shared=FALSE,
//       `filesrc ! qtdemux ! queue ! rtph264pay` (video track only).
//   stock_server PORT publish [RECORD_FILE]
//       test-record style: ANNOUNCE/RECORD of H.264 to /pub (transport mode
//       RECORD, `rtph264depay ! h264parse ! appsink`), played from /live by
//       a shared factory `appsrc ! h264parse ! rtph264pay`; the appsink hands
//       each access unit to the appsrc. The stock library has no relay of a
//       published stream of its own: this appsink/appsrc pair is the smallest
//       one. With RECORD_FILE the RECORD pipeline also writes fragmented MP4
//       (tee ! queue ! mp4mux ! filesink).
//
// Prints "ready" on stdout once it listens. The RTSP thread pool allows 8
// threads: with the default of one, a viewer's DESCRIBE waiting for the
// published stream's first data would block the thread that must read it.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/rtsp-server/rtsp-server.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>

namespace {

// The appsrc of the playing shared media, if one is prepared; the RECORD
// side pushes into it from its streaming thread.
struct PublishedStream {
  std::mutex lock;  // protects src
  GstAppSrc* src = nullptr;
};
PublishedStream g_stream;

GstFlowReturn on_published_sample(GstAppSink* sink, gpointer) {
  GstSample* sample = gst_app_sink_pull_sample(sink);
  if (!sample)
    return GST_FLOW_EOS;
  std::lock_guard<std::mutex> g(g_stream.lock);
  if (GstAppSrc* src = g_stream.src) {
    GstCaps* caps = gst_sample_get_caps(sample);
    GstCaps* have = gst_app_src_get_caps(src);
    if (caps && (!have || !gst_caps_is_equal(have, caps)))
      gst_app_src_set_caps(src, caps);
    if (have)
      gst_caps_unref(have);
    // The play pipeline has its own clock base: stamp with its running time.
    GstBuffer* buf = gst_buffer_copy(gst_sample_get_buffer(sample));
    GstClock* clock = gst_element_get_clock(GST_ELEMENT(src));
    if (clock) {
      GstClockTime now = gst_clock_get_time(clock) - gst_element_get_base_time(GST_ELEMENT(src));
      GST_BUFFER_PTS(buf) = GST_BUFFER_DTS(buf) = now;
      gst_object_unref(clock);
      gst_app_src_push_buffer(src, buf);
    } else {
      gst_buffer_unref(buf);
    }
  }
  gst_sample_unref(sample);
  return GST_FLOW_OK;
}

// A new shared media can be configured before the previous one reports
// that it is unprepared: only the media's own appsrc is let go.
void on_play_unprepared(GstRTSPMedia*, gpointer src) {
  std::lock_guard<std::mutex> g(g_stream.lock);
  if (g_stream.src != src)
    return;
  gst_object_unref(g_stream.src);
  g_stream.src = nullptr;
}

void on_play_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer) {
  GstElement* bin = gst_rtsp_media_get_element(media);
  GstElement* src = gst_bin_get_by_name(GST_BIN(bin), "src");
  gst_object_unref(bin);
  g_signal_connect(media, "unprepared", G_CALLBACK(on_play_unprepared), src);
  std::lock_guard<std::mutex> g(g_stream.lock);
  if (g_stream.src)
    gst_object_unref(g_stream.src);
  g_stream.src = GST_APP_SRC(src);
}

void on_record_configure(GstRTSPMediaFactory*, GstRTSPMedia* media, gpointer) {
  GstElement* bin = gst_rtsp_media_get_element(media);
  GstElement* sink = gst_bin_get_by_name(GST_BIN(bin), "rec");
  gst_object_unref(bin);
  GstAppSinkCallbacks cb{};
  cb.new_sample = on_published_sample;
  gst_app_sink_set_callbacks(GST_APP_SINK(sink), &cb, nullptr, nullptr);
  gst_object_unref(sink);
}

GstRTSPMediaFactory* launch_factory(const std::string& launch, bool shared) {
  GstRTSPMediaFactory* f = gst_rtsp_media_factory_new();
  gst_rtsp_media_factory_set_launch(f, ("( " + launch + " )").c_str());
  gst_rtsp_media_factory_set_shared(f, shared);
  return f;
}

void mount_publish(GstRTSPMountPoints* mounts, const char* record_file) {
  std::string rec = "rtph264depay name=depay0 ! h264parse ! ";
  if (record_file)
    rec += std::string("tee name=t ! queue ! appsink name=rec sync=false t. ! queue ! mp4mux "
                       "fragment-duration=1000 ! filesink location=\"") +
           record_file + "\"";
  else
    rec += "appsink name=rec sync=false";
  GstRTSPMediaFactory* record = launch_factory(rec, false);
  gst_rtsp_media_factory_set_transport_mode(record, GST_RTSP_TRANSPORT_MODE_RECORD);
  g_signal_connect(record, "media-configure", G_CALLBACK(on_record_configure), nullptr);
  gst_rtsp_mount_points_add_factory(mounts, "/pub", record);
  GstRTSPMediaFactory* play = launch_factory(
      "appsrc name=src is-live=true format=time ! h264parse ! rtph264pay name=pay0 pt=96 "
      "config-interval=-1",
      true);
  g_signal_connect(play, "media-configure", G_CALLBACK(on_play_configure), nullptr);
  gst_rtsp_mount_points_add_factory(mounts, "/live", play);
}

bool mount_files(GstRTSPMountPoints* mounts, const char* dir) {
  GDir* d = g_dir_open(dir, 0, nullptr);
  if (!d)
    return false;
  while (const char* name = g_dir_read_name(d)) {
    if (!g_str_has_suffix(name, ".mp4"))
      continue;
    std::string launch = std::string("filesrc location=\"") + dir + "/" + name +
                         "\" ! qtdemux name=d d.video_0 ! queue ! rtph264pay pt=96 name=pay0";
    gst_rtsp_mount_points_add_factory(mounts, (std::string("/") + name).c_str(),
                                      launch_factory(launch, false));
  }
  g_dir_close(d);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 3) {
    fprintf(stderr, "usage: %s PORT relay PATH LAUNCH | files DIR | publish [RECORD_FILE]\n",
            argv[0]);
    return 2;
  }
  GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
  GstRTSPServer* server = gst_rtsp_server_new();
  gst_rtsp_server_set_address(server, "127.0.0.1");
  gst_rtsp_server_set_service(server, argv[1]);
  GstRTSPThreadPool* pool = gst_rtsp_server_get_thread_pool(server);
  gst_rtsp_thread_pool_set_max_threads(pool, 8);
  g_object_unref(pool);
  GstRTSPMountPoints* mounts = gst_rtsp_server_get_mount_points(server);
  std::string mode = argv[2];
  if (mode == "relay" && argc >= 5) {
    gst_rtsp_mount_points_add_factory(mounts, argv[3], launch_factory(argv[4], true));
  } else if (mode == "files" && argc >= 4) {
    if (!mount_files(mounts, argv[3])) {
      fprintf(stderr, "cannot read %s\n", argv[3]);
      return 1;
    }
  } else if (mode == "publish") {
    mount_publish(mounts, argc >= 4 ? argv[3] : nullptr);
  } else {
    fprintf(stderr, "unknown mode %s\n", argv[2]);
    return 2;
  }
  g_object_unref(mounts);
  if (gst_rtsp_server_attach(server, nullptr) == 0) {
    fprintf(stderr, "cannot listen on port %s\n", argv[1]);
    return 1;
  }
  printf("ready\n");
  fflush(stdout);
  g_main_loop_run(loop);
  return 0;
}
