// An application that links the library and loads the installed plugin as
// well (the path is given): run with G_DEBUG=fatal-warnings, a GType that
// both register would abort it. Exit 0: the relay elements came from the
// plugin and work.
#include <gst-mediaserver/server.h>
#include <gst/gst.h>

#include <cstdio>

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s PLUGIN.so\n", argv[0]);
    return 2;
  }
  {
    gms::Config cfg = gms::Config::from_data(
        "[path /t]\nlaunch=videotestsrc is-live=true ! rtpvrawpay name=pay0\n", "test");
    gms::Server server(cfg);  // finds the elements
  }
  GError* err = nullptr;
  GstPlugin* plugin = gst_plugin_load_file(argv[1], &err);
  if (!plugin) {
    std::fprintf(stderr, "cannot load %s: %s\n", argv[1], err ? err->message : "?");
    return 1;
  }
  gst_object_unref(plugin);
  GstElement* src = gst_element_factory_make("msrelaysrc", nullptr);
  if (!src) {
    std::fprintf(stderr, "no msrelaysrc\n");
    return 1;
  }
  guint signal = g_signal_lookup("get-gop", G_OBJECT_TYPE(src));
  gst_object_unref(src);
  return signal ? 0 : 1;
}
