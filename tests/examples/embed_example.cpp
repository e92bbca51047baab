// An application that embeds gst-mediaserver: it builds its configuration
// in code, adds a path of its own, and serves on its own GLib main loop.
// Built against the installed library (pkg-config gstreamer-mediaserver-1.0).
//
//   embed_example PORT [SECONDS]
//
// Prints the path's URL once it serves, and stops after SECONDS (default
// 60) or at SIGINT/SIGTERM.
#include <gst-mediaserver/server.h>
#include <glib-unix.h>
#include <gst/gst.h>

#include <cstdio>
#include <cstdlib>
#include <string>

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s PORT [SECONDS]\n", argv[0]);
    return 2;
  }
  const unsigned seconds = argc > 2 ? unsigned(std::atoi(argv[2])) : 60;
  try {
    gms::Config config = gms::Config::from_data(
        "[server]\naddress=127.0.0.1\nport=" + std::string(argv[1]) + "\nhttp-port=0\n",
        "embed_example");
    gms::PathConfig camera;
    camera.name = "/camera";
    camera.launch =
        "videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! "
        "jpegenc ! rtpjpegpay name=pay0 pt=26";
    config.paths.push_back(camera);
    config.validate();

    gms::Server server(config);
    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
    server.attach();  // the thread-default context: this thread's main loop
    for (const auto& url : server.urls())
      std::printf("serving %s\n", url.c_str());
    std::fflush(stdout);
    auto quit = [](gpointer l) -> gboolean {
      g_main_loop_quit(static_cast<GMainLoop*>(l));
      return G_SOURCE_REMOVE;
    };
    g_unix_signal_add(SIGINT, quit, loop);
    g_unix_signal_add(SIGTERM, quit, loop);
    g_timeout_add_seconds(seconds, quit, loop);
    g_main_loop_run(loop);
    server.close_all_sessions();
    g_main_loop_unref(loop);
  } catch (const gms::ConfigError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  std::printf("stopped\n");
  return 0;
}
