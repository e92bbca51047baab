#include "mounts/launch_mount.h"

#include <algorithm>
#include <string>

#include "core/client_guard.h"
#include "core/log.h"
#include "gms/launch_parse.h"
#include "mounts/floating.h"
#include "mounts/media_setup.h"
#include "mounts/publish_mount.h"

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
    return gms::mounts::floating(parsed.element.release());
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

// ---- the viewers' factory of a recorded (relayed) launch path ---------------

G_BEGIN_DECLS
#define GMS_TYPE_LAUNCH_RELAY_FACTORY (gms_launch_relay_factory_get_type())
G_DECLARE_FINAL_TYPE(GmsLaunchRelayFactory, gms_launch_relay_factory, GMS, LAUNCH_RELAY_FACTORY,
                     GstRTSPMediaFactory)
G_END_DECLS

struct _GmsLaunchRelayFactory {
  GstRTSPMediaFactory parent;
  std::shared_ptr<gms::mounts::LaunchRelay>* relay;  // made with new in init
};

G_DEFINE_FINAL_TYPE(GmsLaunchRelayFactory, gms_launch_relay_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

namespace {

// A shared PLAY media of msrelaysrc elements, one per payloader. Runs on an
// RTSP client thread; wait_ready() has seen every payloader deliver.
GstElement* relay_create_element(GstRTSPMediaFactory* factory, const GstRTSPUrl*) noexcept {
  gms::mounts::LaunchRelay& relay = **GMS_LAUNCH_RELAY_FACTORY(factory)->relay;
  auto channels = relay.ready_channels();
  if (channels.empty())
    return nullptr;
  GstElement* bin = gst_bin_new(nullptr);
  for (size_t i = 0; i < channels.size(); ++i) {
    std::string name = "pay" + std::to_string(i);
    GstElement* src = gst_element_factory_make("msrelaysrc", name.c_str());
    if (!src) {
      GMS_LOG_ERROR("path %s: msrelaysrc is not registered", relay.config().name.c_str());
      gst_object_unref(bin);
      return nullptr;
    }
    // timeout 0: viewers wait through a restart of the line.
    g_object_set(src, "channel", channels[i].c_str(), "timeout", 0u, "from-cache", TRUE, nullptr);
    gst_bin_add(GST_BIN(bin), src);
  }
  return bin;
}

void relay_media_finalized(gpointer data, GObject*) noexcept {
  auto* relay = static_cast<std::shared_ptr<gms::mounts::LaunchRelay>*>(data);
  (*relay)->media_ended();
  delete relay;
}

void relay_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media) noexcept {
  GST_RTSP_MEDIA_FACTORY_CLASS(gms_launch_relay_factory_parent_class)->configure(factory, media);
  auto& relay = *GMS_LAUNCH_RELAY_FACTORY(factory)->relay;
  gst_rtsp_media_set_transport_mode(media, GST_RTSP_TRANSPORT_MODE_PLAY);
  gms::mounts::mark_relay_play_media(media, relay->config().name);
  // The line lingers after the last viewer's media is gone.
  relay->media_started();
  g_object_weak_ref(G_OBJECT(media), relay_media_finalized,
                    new std::shared_ptr<gms::mounts::LaunchRelay>(relay));
}

void relay_finalize(GObject* object) {
  delete GMS_LAUNCH_RELAY_FACTORY(object)->relay;
  G_OBJECT_CLASS(gms_launch_relay_factory_parent_class)->finalize(object);
}

}  // namespace

static void gms_launch_relay_factory_class_init(GmsLaunchRelayFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = relay_finalize;
  auto* f = GST_RTSP_MEDIA_FACTORY_CLASS(klass);
  f->create_element = relay_create_element;
  f->configure = relay_configure;
  f->gen_key = gms::mounts::shared_media_key;
}

static void gms_launch_relay_factory_init(GmsLaunchRelayFactory* self) {
  self->relay = new std::shared_ptr<gms::mounts::LaunchRelay>();
}

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

// Whether the line names its payloaders pay0, pay1, … (a dynpay line does
// not: it stays per media).
bool has_pay0(const std::string& launch) {
  LaunchParse parsed = parse_launch(launch, GST_PARSE_FLAG_PLACE_IN_BIN);
  if (!parsed.element || !GST_IS_BIN(parsed.element.get()))
    return false;
  auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(GST_BIN(parsed.element.get()), "pay0"));
  return static_cast<bool>(pay);
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

LaunchRelayMount make_launch_relay_factory(const PathConfig& path, GstRTSPAddressPool* pool) {
  LaunchRelayMount m;
  if (!path.shared || !has_pay0(path.launch)) {
    m.factory = make_launch_factory(path, pool);
    return m;
  }
  m.factory = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_LAUNCH_RELAY_FACTORY, nullptr)));
  m.relay = std::make_shared<LaunchRelay>(path);
  *GMS_LAUNCH_RELAY_FACTORY(m.factory.get())->relay = m.relay;
  PathConfig shared = path;
  shared.shared = true;  // one source for every viewer
  apply_media_settings(m.factory.get(), shared, pool);
  if (auto why = missing_elements("( " + path.launch + " )"); !why.empty()) {
    set_factory_unavailable(m.factory.get(), why);
    return m;
  }
  std::weak_ptr<LaunchRelay> weak = m.relay;
  set_factory_availability(m.factory.get(), [weak]() -> std::string {
    auto r = weak.lock();
    return r ? r->wait_ready() : "path removed";
  });
  return m;
}

}  // namespace gms::mounts
