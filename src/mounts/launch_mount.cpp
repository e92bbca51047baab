#include "mounts/launch_mount.h"

#include <string>

#include "core/client_guard.h"
#include "core/log.h"
#include "gms/launch_parse.h"
#include "mounts/media_setup.h"

G_BEGIN_DECLS
#define GMS_TYPE_LAUNCH_FACTORY (gms_launch_factory_get_type())
G_DECLARE_FINAL_TYPE(GmsLaunchFactory, gms_launch_factory, GMS, LAUNCH_FACTORY,
                     GstRTSPMediaFactory)
G_END_DECLS

struct _GmsLaunchFactory {
  GstRTSPMediaFactory parent;
  gchar* path;  // for log lines; set once before the factory is mounted
};

G_DEFINE_FINAL_TYPE(GmsLaunchFactory, gms_launch_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

namespace {

using gms::GCharPtr;

// Runs on an RTSP client thread (DESCRIBE/SETUP of a new media).
GstElement* create_element(GstRTSPMediaFactory* factory, const GstRTSPUrl*) noexcept {
  auto* self = GMS_LAUNCH_FACTORY(factory);
  GCharPtr launch(gst_rtsp_media_factory_get_launch(factory));
  if (!launch)
    return nullptr;
  gms::LaunchParse parsed = gms::parse_launch(launch.get(), GST_PARSE_FLAG_PLACE_IN_BIN);
  if (!parsed.error)
    return parsed.element.release();
  // The stock factory keeps going after a "recoverable" error such as a
  // missing element and serves a broken pipeline; refuse instead.
  GMS_LOG_WARN("path %s: cannot build the pipeline: %s", self->path, parsed.error->message);
  return nullptr;
}

void finalize(GObject* object) {
  g_free(GMS_LAUNCH_FACTORY(object)->path);
  G_OBJECT_CLASS(gms_launch_factory_parent_class)->finalize(object);
}

}  // namespace

static void gms_launch_factory_class_init(GmsLaunchFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = finalize;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->create_element = create_element;
  GST_RTSP_MEDIA_FACTORY_CLASS(klass)->gen_key = gms::mounts::shared_media_key;
}

static void gms_launch_factory_init(GmsLaunchFactory*) {}

namespace gms::mounts {
namespace {

// "element not installed: x264enc" when the line needs absent plugins.
std::string missing_elements(const std::string& launch) {
  LaunchParse parsed = parse_launch(launch, GST_PARSE_FLAG_NONE);
  if (!parsed.only_missing_elements())
    return {};
  return "element not installed: " + (parsed.missing.empty() ? std::string(parsed.error->message)
                                                              : parsed.missing);
}

}  // namespace

Ref<GstRTSPMediaFactory> make_launch_factory(const PathConfig& path, GstRTSPAddressPool* pool) {
  auto factory = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_LAUNCH_FACTORY, nullptr)));
  GMS_LAUNCH_FACTORY(factory.get())->path = g_strdup(path.name.c_str());
  std::string launch = "( " + path.launch + " )";
  gst_rtsp_media_factory_set_launch(factory.get(), launch.c_str());
  apply_media_settings(factory.get(), path, pool);
  if (auto why = missing_elements(launch); !why.empty())
    set_factory_unavailable(factory.get(), why);
  return factory;
}

}  // namespace gms::mounts
