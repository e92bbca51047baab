#include "mounts/proxy_mount.h"

#include "core/client_guard.h"
#include "core/log.h"
#include "core/relay_channel.h"
#include "gms/invoke.h"
#include "config/tls_files.h"
#include "mounts/media_setup.h"
#include "mounts/publish_mount.h"

G_BEGIN_DECLS
#define GMS_TYPE_PROXY_FACTORY (gms_proxy_factory_get_type())
G_DECLARE_FINAL_TYPE(GmsProxyFactory, gms_proxy_factory, GMS, PROXY_FACTORY, GstRTSPMediaFactory)
G_END_DECLS

struct _GmsProxyFactory {
  GstRTSPMediaFactory parent;
  std::shared_ptr<gms::mounts::ProxyPath>* path;  // made with new in init
};

G_DEFINE_FINAL_TYPE(GmsProxyFactory, gms_proxy_factory, GST_TYPE_RTSP_MEDIA_FACTORY)

namespace {

using gms::Ref;
using gms::mounts::ProxyPath;

// A shared PLAY media of msrelaysrc elements, one per back-end stream.
// Runs on an RTSP client thread; wait_ready() has let the back end connect.
GstElement* create_element(GstRTSPMediaFactory* factory, const GstRTSPUrl*) noexcept {
  ProxyPath& path = **GMS_PROXY_FACTORY(factory)->path;
  auto streams = path.streams();
  if (streams.empty())
    return nullptr;
  GstElement* bin = gst_bin_new(nullptr);
  for (size_t i = 0; i < streams.size(); ++i) {
    std::string name = "pay" + std::to_string(i);
    GstElement* src = gst_element_factory_make("msrelaysrc", name.c_str());
    if (!src) {
      GMS_LOG_ERROR("path %s: msrelaysrc is not registered", path.config().name.c_str());
      gst_object_unref(bin);
      return nullptr;
    }
    // timeout 0: viewers wait through a back-end outage instead of ending.
    g_object_set(src, "channel",
                 gms::relay_channel(path.config().name, streams[i].index).c_str(),
                 "timeout", 0u, "from-cache", TRUE, nullptr);
    gst_bin_add(GST_BIN(bin), src);
  }
  return bin;
}

void media_finalized(gpointer data, GObject*) noexcept {
  auto* path = static_cast<std::shared_ptr<ProxyPath>*>(data);
  (*path)->media_ended();
  delete path;
}

void configure(GstRTSPMediaFactory* factory, GstRTSPMedia* media) noexcept {
  GST_RTSP_MEDIA_FACTORY_CLASS(gms_proxy_factory_parent_class)->configure(factory, media);
  auto& path = *GMS_PROXY_FACTORY(factory)->path;
  gst_rtsp_media_set_transport_mode(media, GST_RTSP_TRANSPORT_MODE_PLAY);
  gms::mounts::mark_relay_play_media(media, path->config().name);
  path->media_started();
  g_object_weak_ref(G_OBJECT(media), media_finalized, new std::shared_ptr<ProxyPath>(path));
}

void finalize(GObject* object) {
  delete GMS_PROXY_FACTORY(object)->path;
  G_OBJECT_CLASS(gms_proxy_factory_parent_class)->finalize(object);
}

}  // namespace

static void gms_proxy_factory_class_init(GmsProxyFactoryClass* klass) {
  G_OBJECT_CLASS(klass)->finalize = finalize;
  auto* f = GST_RTSP_MEDIA_FACTORY_CLASS(klass);
  f->create_element = create_element;
  f->configure = configure;
  f->gen_key = gms::mounts::shared_media_key;
}

static void gms_proxy_factory_init(GmsProxyFactory* self) {
  self->path = new std::shared_ptr<ProxyPath>();
}

namespace gms::mounts {
namespace {

proxy::Transport transport_of(const std::string& name) {
  if (name == "udp")
    return proxy::Transport::kUdp;
  if (name == "tcp")
    return proxy::Transport::kTcp;
  if (name == "http")
    return proxy::Transport::kHttp;
  return proxy::Transport::kAuto;
}

// How long a DESCRIBE may wait for a back end that is connecting.
constexpr auto kReadyWait = std::chrono::seconds(5);
// How long after wait_ready() said yes the viewer's media may take to come.
constexpr gint64 kAskedGraceUs = 2 * G_USEC_PER_SEC;

}  // namespace

ProxyPath::ProxyPath(const PathConfig& path) : config_(path) {}

ProxyPath::~ProxyPath() {
  linger_.reset();
  source_.reset();
}

void ProxyPath::on_control(std::function<void()> fn) {
  invoke_while_alive(control_.get(), weak_from_this(), std::move(fn));
}

void ProxyPath::start(GMainContext* control) {
  control_ = Ref<GMainContext>::borrow(control);
  proxy::BackendOptions o;
  o.url = config_.proxy;
  o.transport = transport_of(config_.backend_transport);
  o.http_port = config_.backend_http_port;
  o.user = config_.backend_user;
  o.password = config_.backend_password;
  o.latency_ms = config_.latency_ms.value_or(0);
  o.stall_timeout = std::chrono::seconds(config_.timeout);
  o.backoff_cap = std::chrono::seconds(config_.backoff_max);
  o.keepalive = std::chrono::seconds(config_.keepalive);
  o.tls_verify = config_.backend_tls_verify;
  if (!config_.backend_tls_ca.empty()) {
    std::string why;  // the file was read when the configuration was checked
    o.tls_ca = load_ca_file(config_.backend_tls_ca, why);
    if (!o.tls_ca)
      GMS_LOG_WARN("%s: backend-tls-ca: %s", config_.name.c_str(), why.c_str());
  }
  proxy::ProxySource::Callbacks cb;
  std::string name = config_.name;
  cb.relay_channel = [name](unsigned index) { return relay_channel(name, index); };
  // Streaming thread; the path's figures outlive its back-end sessions.
  cb.tap = [weak = weak_from_this()](unsigned index) {
    auto self = weak.lock();
    return self ? self->make_tap(index) : Ref<GstElement>();
  };
  cb.connected = [this](const std::vector<proxy::StreamInfo>& s) { connected(s); };
  cb.lost = [this](const std::string& why) { lost(why); };
  source_ = std::make_unique<proxy::ProxySource>(config_.name, o, control, std::move(cb));
  if (!config_.on_demand)
    source_->start();
}

void ProxyPath::stop() {
  linger_.reset();
  if (source_)
    source_->stop();
  std::lock_guard<std::mutex> g(lock_);
  connected_ = false;
  cv_.notify_all();
}

// Control context (ProxySource's callbacks), as are changed()'s calls.
void ProxyPath::connected(const std::vector<proxy::StreamInfo>& streams) {
  if (std::exchange(lost_, false))
    reconnects_++;
  {
    std::lock_guard<std::mutex> g(lock_);
    streams_ = streams;
    connected_ = true;
    last_error_.clear();
    not_found_ = false;
  }
  cv_.notify_all();
  changed();
}

void ProxyPath::lost(const std::string& why) {
  lost_ = true;
  bool not_found = source_ && source_->status().not_found;
  bool unwatched;
  {
    std::lock_guard<std::mutex> g(lock_);
    connected_ = false;
    last_error_ = why;
    not_found_ = not_found;
    failures_++;
    unwatched = medias_ == 0;
  }
  cv_.notify_all();
  // An on-demand back end without the stream is not asked again until a
  // viewer asks (who is told 404 meanwhile); one with viewers is retried,
  // as the stream may come back (its publisher reconnecting).
  if (not_found && unwatched && config_.on_demand && source_) {
    GMS_LOG_INFO("proxy %s: the back end has no such stream; not retrying without viewers",
                 config_.name.c_str());
    source_->stop();
  }
  changed();
}

std::vector<Ref<GstCaps>> ProxyPath::track_caps() const {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<Ref<GstCaps>> out;
  if (!connected_)
    return out;
  for (const auto& st : streams_) {
    if (!st.caps)
      return {};
    out.push_back(st.caps);
  }
  return out;
}

std::vector<std::string> ProxyPath::ready_channels() const {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<std::string> out;
  if (!connected_)
    return out;
  for (const auto& st : streams_)
    out.push_back(relay_channel(config_.name, st.index));
  return out;
}

Availability ProxyPath::wait_ready() {
  std::unique_lock<std::mutex> lk(lock_);
  touched_us_ = g_get_monotonic_time();
  asked_ = true;
  if (retired_) {
    Availability a(std::string("the path was just removed"));
    a.look_again = true;
    return a;
  }
  if (connected_)
    return {};
  if (!control_)
    return std::string("not started");
  if (!last_error_.empty() && !config_.on_demand) {
    if (not_found_)
      return Availability::not_found("the back end has no such stream (" + last_error_ + ")");
    return "back end unavailable (" + last_error_ + "); retrying";
  }
  waiters_++;  // from here on the path is in use (not retired, not lingering out)
  if (config_.on_demand) {
    lk.unlock();
    on_control([this] {
      linger_.reset();
      if (source_ && source_->status().state == proxy::State::kStopped)
        source_->start();
    });
    lk.lock();
  }
  uint64_t failures_before = failures_;
  bool ok = cv_.wait_for(lk, kReadyWait, [&] {
    return connected_ || retired_ || failures_ != failures_before;
  });
  waiters_--;
  touched_us_ = g_get_monotonic_time();
  if (connected_)
    return {};
  // Nobody may come for this back end: it stops after linger like one
  // that lost its last viewer, instead of retrying for ever.
  if (config_.on_demand && medias_ == 0) {
    lk.unlock();
    on_control([this] { start_linger(config_.linger); });
    lk.lock();
  }
  if (!ok)
    return "back end did not answer within " + std::to_string(kReadyWait.count()) + " s";
  if (not_found_)
    return Availability::not_found("the back end has no such stream (" + last_error_ + ")");
  return "back end unavailable (" + last_error_ + ")";
}

void ProxyPath::media_started() {
  {
    std::lock_guard<std::mutex> g(lock_);
    medias_++;
  }
  // A viewer that passed wait_ready() just as the linger stopped the back
  // end brings it back.
  on_control([this] {
    linger_.reset();
    bool retired;
    {
      std::lock_guard<std::mutex> g(lock_);
      retired = retired_;
    }
    if (!retired && source_ && source_->status().state == proxy::State::kStopped)
      source_->start();
  });
}

void ProxyPath::media_ended() {
  unsigned left;
  {
    std::lock_guard<std::mutex> g(lock_);
    left = medias_ > 0 ? --medias_ : 0;
    if (left == 0)
      ended_us_ = g_get_monotonic_time();
  }
  if (left > 0 || !config_.on_demand)
    return;
  on_control([this] { start_linger(config_.linger); });
}

void ProxyPath::start_linger(unsigned seconds) {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (medias_ > 0 || linger_.get())
      return;
  }
  {
    // Not g_timeout_source_new_seconds: its whole-second grid made a 1 s
    // linger last up to 1.75 s.
    GSource* t = g_timeout_source_new(seconds * 1000);
    g_source_set_callback(
        t,
        [](gpointer self) noexcept -> gboolean {
          static_cast<ProxyPath*>(self)->linger_expired();
          return G_SOURCE_REMOVE;
        },
        this, nullptr);
    linger_ = SourceHolder(t);
    g_source_attach(t, control_.get());
  }
}

void ProxyPath::linger_expired() {
  linger_ = SourceHolder();  // destroying our own source inside its callback is safe
  bool rearm = false;
  {
    std::lock_guard<std::mutex> g(lock_);
    if (medias_ > 0 || waiters_ > 0)
      return;
    // A viewer that was just told the back end is ready has its media
    // made next: the back end waits for it a little longer. One whose
    // media has come and gone since (the last viewer's own SETUP) is not
    // waited for.
    if (touched_us_ > ended_us_ && g_get_monotonic_time() - touched_us_ < kAskedGraceUs)
      rearm = true;
    else
      connected_ = false;
  }
  if (rearm) {
    start_linger(1);
    return;
  }
  GMS_LOG_INFO("proxy %s: no viewer for %u s; disconnecting from the back end",
               config_.name.c_str(), config_.linger);
  if (source_)
    source_->stop();
  changed();
}

bool ProxyPath::retire_if_idle() {
  std::lock_guard<std::mutex> g(lock_);
  if (retired_)
    return true;
  // A path is made at a DESCRIBE whose wait_ready() comes just after: it
  // is not idle before it was asked for.
  if (!asked_ || medias_ > 0 || waiters_ > 0)
    return false;
  if (source_ && source_->status().state != proxy::State::kStopped)
    return false;
  retired_ = true;
  cv_.notify_all();
  return true;
}

PathState ProxyPath::path_state() const {
  if (is_connected())
    return PathState::kReady;
  if (!source_)
    return PathState::kIdle;
  switch (source_->status().state) {
    case proxy::State::kConnecting:
      return PathState::kStarting;
    case proxy::State::kRetrying:
      return PathState::kRetrying;
    case proxy::State::kPlaying:  // playing, but the streams are not in yet
      return PathState::kStarting;
    case proxy::State::kStopped:
      break;
  }
  return PathState::kIdle;
}

bool ProxyPath::is_connected() const {
  std::lock_guard<std::mutex> g(lock_);
  return connected_;
}

std::vector<proxy::StreamInfo> ProxyPath::streams() const {
  std::lock_guard<std::mutex> g(lock_);
  return streams_;
}

ProxyMount make_proxy_factory(const PathConfig& path, GstRTSPAddressPool* pool) {
  ProxyMount m;
  m.factory = Ref<GstRTSPMediaFactory>::adopt(
      GST_RTSP_MEDIA_FACTORY(g_object_new(GMS_TYPE_PROXY_FACTORY, nullptr)));
  m.path = std::make_shared<ProxyPath>(path);
  *GMS_PROXY_FACTORY(m.factory.get())->path = m.path;
  PathConfig shared = path;
  shared.shared = true;  // one back-end session for every viewer
  apply_media_settings(m.factory.get(), shared, pool);
  std::weak_ptr<ProxyPath> weak = m.path;
  set_factory_availability(m.factory.get(), [weak]() -> Availability {
    auto p = weak.lock();
    return p ? p->wait_ready() : Availability(std::string("path removed"));
  });
  return m;
}

}  // namespace gms::mounts
