#include "mounts/launch_mount.h"

#include <algorithm>
#include <string>

#include "core/client_guard.h"
#include "core/log.h"
#include "gms/launch_parse.h"
#include "mounts/media_setup.h"
#include "mounts/publish_mount.h"
#include "relay/relay_hub.h"

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
// RTSP client thread; wait_ready() has seen every channel deliver.
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

void relay_configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media) noexcept {
  GST_RTSP_MEDIA_FACTORY_CLASS(gms_launch_relay_factory_parent_class)->configure(factory, media);
  auto& relay = *GMS_LAUNCH_RELAY_FACTORY(factory)->relay;
  gst_rtsp_media_set_transport_mode(media, GST_RTSP_TRANSPORT_MODE_PLAY);
  gms::mounts::mark_relay_play_media(media, relay->config().name);
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

std::string launch_channel(const std::string& path, unsigned index) {
  return "launch:" + path + "/" + std::to_string(index);
}

namespace {
constexpr unsigned kMaxPayloaders = 16;
constexpr auto kMaxBackoff = std::chrono::seconds(30);
constexpr auto kReadyWait = std::chrono::seconds(5);
}  // namespace

LaunchRelay::LaunchRelay(const PathConfig& path) : config_(path) {}

LaunchRelay::~LaunchRelay() { stop(); }

unsigned LaunchRelay::streams() const {
  std::lock_guard<std::mutex> g(lock_);
  return streams_;
}

bool LaunchRelay::build(std::string& why) {
  LaunchParse parsed = parse_launch(config_.launch, GST_PARSE_FLAG_PLACE_IN_BIN);
  if (parsed.only_missing_elements()) {
    why = "element not installed: " + parsed.missing;
    return false;
  }
  if (parsed.error || !parsed.element) {
    why = std::string("cannot build the pipeline: ") +
          (parsed.error ? parsed.error->message : "no element");
    return false;
  }
  auto pipeline = Ref<GstElement>::adopt(gst_pipeline_new(nullptr));
  gst_bin_add(GST_BIN(pipeline.get()), parsed.element.get());
  GstBin* line = GST_BIN(parsed.element.get());
  unsigned n = 0;
  for (; n < kMaxPayloaders; ++n) {
    std::string name = "pay" + std::to_string(n);
    auto pay = Ref<GstElement>::adopt(gst_bin_get_by_name(line, name.c_str()));
    if (!pay)
      break;
    GstElement* sink = gst_element_factory_make("msrelaysink", nullptr);
    if (!sink) {
      why = "msrelaysink is not registered";
      return false;
    }
    // sync: a line that is not live (a file) is paced like the stock
    // server's UDP sinks do, instead of running ahead of real time.
    g_object_set(sink, "channel", launch_channel(config_.name, n).c_str(), "sync", TRUE, nullptr);
    auto parent = Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(pay.get())));
    gst_bin_add(GST_BIN(parent.get()), sink);
    if (!gst_element_link(pay.get(), sink)) {
      why = "cannot link " + name + " to the relay";
      return false;
    }
  }
  if (n == 0) {
    why = "no payloader named pay0 (dynpay is not relayed)";
    return false;
  }
  {
    std::lock_guard<std::mutex> g(lock_);
    streams_ = n;
  }
  pipeline_ = pipeline;
  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(
      watch,
      G_SOURCE_FUNC(+[](GstBus*, GstMessage* msg, gpointer self) noexcept -> gboolean {
        static_cast<LaunchRelay*>(self)->on_message(msg);
        return G_SOURCE_CONTINUE;
      }),
      this, nullptr);
  bus_watch_ = SourceHolder(watch);
  g_source_attach(watch, control_.get());
  return true;
}

void LaunchRelay::start(GMainContext* control) {
  if (control)
    control_ = Ref<GMainContext>::borrow(control);
  if (pipeline_ || !control_)
    return;
  retry_.reset();
  std::string why;
  if (!build(why)) {
    teardown();
    if (why.rfind("element not installed", 0) == 0) {  // no use trying again
      std::lock_guard<std::mutex> g(lock_);
      last_error_ = why;
      GMS_LOG_WARN("path %s: %s; not recorded", config_.name.c_str(), why.c_str());
      return;
    }
    restart_later(why);
    return;
  }
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    teardown();
    restart_later("the pipeline did not start");
    return;
  }
  GMS_LOG_INFO("path %s: launch line running (always on: recorded)", config_.name.c_str());
}

void LaunchRelay::teardown() {
  bus_watch_.reset();
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
}

void LaunchRelay::stop() {
  retry_.reset();
  teardown();
}

void LaunchRelay::restart_later(const std::string& why) {
  {
    std::lock_guard<std::mutex> g(lock_);
    last_error_ = why;
  }
  GMS_LOG_WARN("path %s: %s; starting the launch line again in %lld s", config_.name.c_str(),
               why.c_str(), static_cast<long long>(backoff_.count()));
  GSource* t = g_timeout_source_new_seconds(static_cast<guint>(backoff_.count()));
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<LaunchRelay*>(self);
        r->retry_ = SourceHolder();
        r->start(nullptr);
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  retry_ = SourceHolder(t);
  g_source_attach(t, control_.get());
  backoff_ = std::min<std::chrono::seconds>(backoff_ * 2, kMaxBackoff);
}

void LaunchRelay::on_message(GstMessage* msg) {
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GErrorPtr err;
      gst_message_parse_error(msg, out(err), nullptr);
      GCharPtr src(gst_object_get_path_string(GST_MESSAGE_SRC(msg)));
      std::string why = std::string("pipeline error from ") + src.get() + ": " +
                        (err ? err->message : "?");
      teardown();
      restart_later(why);
      break;
    }
    case GST_MESSAGE_EOS:
      teardown();
      restart_later("the launch line ended");
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC(msg) == GST_OBJECT(pipeline_.get())) {
        GstState now = GST_STATE_NULL;
        gst_message_parse_state_changed(msg, nullptr, &now, nullptr);
        if (now == GST_STATE_PLAYING)
          backoff_ = std::chrono::seconds(1);
      }
      break;
    default:
      break;
  }
}

std::vector<std::string> LaunchRelay::ready_channels() const {
  unsigned n = streams();
  std::vector<std::string> out;
  for (unsigned i = 0; i < n; ++i) {
    std::string name = launch_channel(config_.name, i);
    auto channel = relay::Hub::instance().find(name);
    if (!channel)
      return {};
    auto st = channel->state();
    if (!st.producer || !st.caps)
      return {};
    out.push_back(std::move(name));
  }
  return out;
}

std::string LaunchRelay::wait_ready() const {
  // The channels do not signal: look every 20 ms, for a bounded time.
  const gint64 deadline = g_get_monotonic_time() +
                          std::chrono::duration_cast<std::chrono::microseconds>(kReadyWait).count();
  while (ready_channels().empty()) {
    if (g_get_monotonic_time() >= deadline) {
      std::lock_guard<std::mutex> g(lock_);
      return last_error_.empty() ? "the launch line has not delivered yet"
                                 : "the launch line is not running (" + last_error_ + ")";
    }
    g_usleep(20000);
  }
  return {};
}

LaunchRelayMount make_launch_relay_factory(const PathConfig& path, GstRTSPAddressPool* pool) {
  LaunchRelayMount m;
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
