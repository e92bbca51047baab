// An application that embeds gst-mediaserver: it builds its configuration
// in code, serves on its own GLib main loop, adds a path there through the
// server's API and prints the server's events as they come.
// Built against the installed library (pkg-config gstreamer-mediaserver-1.0).
//
//   embed_example PORT [SECONDS]
//
// Prints the path's URL once it serves ("serving URL"), one line per event
// ("event viewer-joined /camera session=… tcp 127.0.0.1:…"), and stops
// after SECONDS (default 60) or at SIGINT/SIGTERM.
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
    config.validate();

    gms::Server server(config);
    server.attach();  // the thread-default context: this thread's main loop
    // Events come on that context too, from the loop below.
    server.subscribe([](const gms::ServerEvent& e) {
      std::printf("event %s %s session=%s %s\n", gms::event_name(e.kind), e.path.c_str(),
                  e.session.c_str(), e.detail.c_str());
      std::fflush(stdout);
    });
    gms::PathConfig camera;
    camera.name = "/camera";
    camera.launch =
        "videotestsrc is-live=true ! video/x-raw,format=I420,width=320,height=240,framerate=15/1 ! "
        "jpegenc ! rtpjpegpay name=pay0 pt=26";
    gms::PathResult added = server.add_path(camera);
    if (!added.ok()) {
      std::fprintf(stderr, "cannot add %s: %s: %s\n", camera.name.c_str(), added.key.c_str(),
                   added.reason.c_str());
      return 1;
    }
    GMainLoop* loop = g_main_loop_new(nullptr, FALSE);
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
