#include "static_elements.h"

#include <gst/gst.h>

#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "elements.h"
#include "gms/ref.h"

namespace gms::test {
namespace {

// The plugin module's file name (plugins/meson.build: shared_module gstmediaserver).
constexpr char kPluginFile[] = "libgstmediaserver.so";
constexpr char kPluginName[] = "mediaserver";

// An environment variable set for the duration of gst_init(), then put back.
class EnvOverride {
 public:
  explicit EnvOverride(const char* name) : name_(name) {
    if (const char* v = g_getenv(name))
      saved_ = v;
  }
  ~EnvOverride() {
    if (saved_)
      g_setenv(name_, saved_->c_str(), TRUE);
    else
      g_unsetenv(name_);
  }
  EnvOverride(const EnvOverride&) = delete;
  EnvOverride& operator=(const EnvOverride&) = delete;

  const std::optional<std::string>& saved() const { return saved_; }
  void set(const std::string& value) { g_setenv(name_, value.c_str(), TRUE); }

 private:
  const char* name_;
  std::optional<std::string> saved_;
};

bool holds_plugin(const std::string& dir) {
  GCharPtr file(g_build_filename(dir.c_str(), kPluginFile, nullptr));
  return g_file_test(file.get(), G_FILE_TEST_EXISTS);
}

// A search path without the directories that hold the plugin.
std::string without_plugin(const std::string& path) {
  std::vector<std::string> kept;
  GStrvPtr dirs(g_strsplit(path.c_str(), G_SEARCHPATH_SEPARATOR_S, -1));
  for (char** d = dirs.get(); *d; ++d)
    if (**d && !holds_plugin(*d))
      kept.emplace_back(*d);
  std::string out;
  for (const auto& d : kept)
    out += (out.empty() ? "" : G_SEARCHPATH_SEPARATOR_S) + d;
  return out;
}

}  // namespace

bool init_gst_with_static_elements(int* argc, char*** argv) {
  {
    EnvOverride paths[] = {EnvOverride("GST_PLUGIN_PATH_1_0"), EnvOverride("GST_PLUGIN_PATH")};
    for (auto& p : paths)
      if (p.saved())
        p.set(without_plugin(*p.saved()));
    EnvOverride registry("GST_REGISTRY");
    if (registry.saved())
      registry.set(*registry.saved() + ".static-elements");
    gst_init(argc, argv);
  }
  if (auto plugin = Ref<GstPlugin>::adopt(gst_registry_find_plugin(gst_registry_get(), kPluginName))) {
    if (gst_plugin_is_loaded(plugin.get())) {
      std::fprintf(stderr,
                   "the plugin %s was loaded into this test program, which registers the same "
                   "elements from its own code: remove it from the plugin path\n",
                   gst_plugin_get_filename(plugin.get()));
      return false;
    }
    // Known from the registry only (an installed copy): never loaded here.
    gst_registry_remove_plugin(gst_registry_get(), plugin.get());
  }
  return gms_register_elements(nullptr);
}

}  // namespace gms::test
