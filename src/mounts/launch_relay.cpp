#include "mounts/launch_relay.h"

#include <algorithm>

#include "gms/invoke.h"
#include "core/log.h"
#include "core/relay_channel.h"
#include "gms/launch_parse.h"

namespace gms::mounts {
namespace {

constexpr unsigned kMaxPayloaders = 16;
constexpr auto kMaxBackoff = std::chrono::seconds(30);

// What a payloader's first-buffer probe needs; owned by the probe.
struct ProbeData {
  std::weak_ptr<LaunchRelay> relay;
  unsigned index;
  uint64_t run;
};

}  // namespace

LaunchRelay::LaunchRelay(const PathConfig& path) : config_(path) {}

LaunchRelay::~LaunchRelay() {
  linger_.reset();
  start_timer_.reset();
  retry_.reset();
  teardown();
}

void LaunchRelay::on_control(std::function<void()> fn) {
  invoke_while_alive(control_.get(), weak_from_this(), std::move(fn));
}

bool LaunchRelay::wanted() const { return !stopped_ && (config_.always_on || held_); }

void LaunchRelay::attach(GMainContext* control) {
  control_ = Ref<GMainContext>::borrow(control);
  if (wanted())
    start_line();
}

void LaunchRelay::stop() {
  stopped_ = true;
  linger_.reset();
  retry_.reset();
  start_timer_.reset();
  teardown();
  set_state(State::kIdle, "path removed");
}

void LaunchRelay::hold(bool on) {
  if (held_ == on)
    return;
  held_ = on;
  if (on) {
    linger_.reset();
    if (state() == State::kIdle && control_)
      start_line();
    return;
  }
  bool unwatched;
  {
    std::lock_guard<std::mutex> g(lock_);
    unwatched = medias_ == 0;
  }
  if (unwatched && !wanted())
    arm_linger();
}

LaunchRelay::State LaunchRelay::state() const {
  std::lock_guard<std::mutex> g(lock_);
  return state_;
}

void LaunchRelay::set_state(State s, const std::string& why) {
  bool was_ready, ready = s == State::kReady;
  {
    std::lock_guard<std::mutex> g(lock_);
    was_ready = state_ == State::kReady;
    state_ = s;
    if (!why.empty())
      last_error_ = why;
    if (ready)
      last_error_.clear();
  }
  cv_.notify_all();
  if (was_ready != ready)
    changed();  // the recorder follows
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
  uint64_t run;
  {
    std::lock_guard<std::mutex> g(lock_);
    run = ++run_;
  }
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
    g_object_set(sink, "channel", relay_channel(config_.name, n).c_str(), "sync", TRUE, nullptr);
    auto parent = Ref<GstObject>::adopt(gst_object_get_parent(GST_OBJECT(pay.get())));
    gst_bin_add(GST_BIN(parent.get()), sink);
    // The path's figures: counted once here, whatever the number of viewers.
    GstElement* before_sink = pay.get();
    if (auto tap = make_tap(n)) {
      gst_bin_add(GST_BIN(parent.get()), tap.get());
      if (!gst_element_link(pay.get(), tap.get())) {
        why = "cannot link " + name + " to msstats";
        return false;
      }
      before_sink = tap.get();
    }
    if (!gst_element_link(before_sink, sink)) {
      why = "cannot link " + name + " to the relay";
      return false;
    }
    // The line delivers once every payloader has sent its caps (they reach
    // the channel an instant later) and one of them a packet: a track whose
    // packets are held back still counts, as it does for recording, but a
    // line that only negotiates (a payloader dropping every frame) does not.
    auto pad = Ref<GstPad>::adopt(gst_element_get_static_pad(pay.get(), "src"));
    gst_pad_add_probe(
        pad.get(),
        GstPadProbeType(GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_BUFFER |
                        GST_PAD_PROBE_TYPE_BUFFER_LIST),
        +[](GstPad*, GstPadProbeInfo* info, gpointer data) noexcept -> GstPadProbeReturn {
          GstCaps* caps = nullptr;
          if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) &&
              GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_CAPS)
            gst_event_parse_caps(GST_PAD_PROBE_INFO_EVENT(info), &caps);
          bool packet = info->type & (GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);
          if (!caps && !packet)
            return GST_PAD_PROBE_OK;
          auto* d = static_cast<ProbeData*>(data);
          if (auto self = d->relay.lock())
            self->delivered(d->index, d->run, caps);
          // Caps always come before the first packet: nothing more to learn.
          return packet ? GST_PAD_PROBE_REMOVE : GST_PAD_PROBE_OK;
        },
        new ProbeData{weak_from_this(), n, run},
        [](gpointer d) { delete static_cast<ProbeData*>(d); });
  }
  if (n == 0) {
    why = "no payloader named pay0";
    return false;
  }
  {
    std::lock_guard<std::mutex> g(lock_);
    streams_ = n;
    caps_.assign(n, Ref<GstCaps>());
    packets_ = false;
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

void LaunchRelay::start_line() {
  if (pipeline_ || !control_ || stopped_)
    return;
  retry_.reset();
  set_state(State::kStarting);
  std::string why;
  if (!build(why)) {
    teardown();
    failed(why);
    return;
  }
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    // The element that failed said why on the bus.
    std::string why = "the pipeline did not start";
    auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    if (auto msg = Ref<GstMessage>::adopt(gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR))) {
      GErrorPtr err;
      gst_message_parse_error(msg.get(), out(err), nullptr);
      GCharPtr src(gst_object_get_path_string(GST_MESSAGE_SRC(msg.get())));
      why = std::string("pipeline error from ") + src.get() + ": " + (err ? err->message : "?");
    }
    teardown();
    failed(why);
    return;
  }
  GSource* t = g_timeout_source_new_seconds(config_.start_timeout);
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<LaunchRelay*>(self);
        r->start_timer_ = SourceHolder();
        r->start_timed_out();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  start_timer_ = SourceHolder(t);
  g_source_attach(t, control_.get());
  GMS_LOG_INFO("path %s: launch line starting%s", config_.name.c_str(),
               wanted() ? " (always on)" : "");
}

// Streaming thread of payloader `index`: its caps, or a packet, are out.
// `caps`: its caps (null: a packet).
void LaunchRelay::delivered(unsigned index, uint64_t run, GstCaps* caps) {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (run != run_ || index >= caps_.size())
      return;
    if (caps)
      caps_[index] = Ref<GstCaps>::borrow(caps);
    else
      packets_ = true;
    if (!packets_ || std::find(caps_.begin(), caps_.end(), Ref<GstCaps>()) != caps_.end())
      return;
  }
  on_control([this] {
    if (!pipeline_ || state() != State::kStarting)
      return;
    start_timer_.reset();
    backoff_ = std::chrono::seconds(1);
    GMS_LOG_INFO("path %s: launch line running", config_.name.c_str());
    set_state(State::kReady);
  });
}

void LaunchRelay::start_timed_out() {
  if (state() != State::kStarting)
    return;
  teardown();
  failed("the launch line did not deliver within start-timeout (" +
         std::to_string(config_.start_timeout) + " s): a caps mismatch or a source that never "
         "produces; pipeline torn down");
}

void LaunchRelay::teardown() {
  bus_watch_.reset();
  start_timer_.reset();
  if (pipeline_) {
    gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
    pipeline_.reset();
  }
}

// The line stopped on its own (error, end, start-timeout): a wanted one or
// one with viewers is started again after a back-off; any other goes idle
// and the next viewer starts it.
void LaunchRelay::failed(const std::string& why) {
  bool watched;
  {
    std::lock_guard<std::mutex> g(lock_);
    watched = medias_ > 0;
  }
  bool lasting = why.rfind("element not installed", 0) == 0;
  if (stopped_ || lasting || !(wanted() || watched)) {
    GMS_LOG_WARN("path %s: %s", config_.name.c_str(), why.c_str());
    set_state(State::kIdle, why);
    return;
  }
  GMS_LOG_WARN("path %s: %s; starting the launch line again in %lld s", config_.name.c_str(),
               why.c_str(), static_cast<long long>(backoff_.count()));
  set_state(State::kRetrying, why);
  GSource* t = g_timeout_source_new_seconds(static_cast<guint>(backoff_.count()));
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<LaunchRelay*>(self);
        r->retry_ = SourceHolder();
        r->start_line();
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
      failed(why);
      break;
    }
    case GST_MESSAGE_EOS:
      teardown();
      failed("the launch line ended");
      break;
    default:
      break;
  }
}

PathState LaunchRelay::path_state() const {
  switch (state()) {
    case State::kIdle:
      return PathState::kIdle;
    case State::kStarting:
      return PathState::kStarting;
    case State::kReady:
      return PathState::kReady;
    case State::kRetrying:
      return PathState::kRetrying;
  }
  return PathState::kIdle;
}

std::string LaunchRelay::wait_ready() {
  std::unique_lock<std::mutex> lk(lock_);
  if (state_ == State::kReady)
    return {};
  if (!control_)
    return "not started";
  if (state_ == State::kRetrying)
    return "the launch line is not running (" + last_error_ + "); retrying";
  if (state_ == State::kIdle) {
    if (last_error_.rfind("element not installed", 0) == 0)
      return last_error_;
    // Marked starting here so that the viewers arriving meanwhile wait for
    // this start instead of asking for another.
    state_ = State::kStarting;
    lk.unlock();
    on_control([this] {
      linger_.reset();
      {
        std::lock_guard<std::mutex> g(lock_);
        state_ = State::kIdle;
      }
      start_line();
    });
    lk.lock();
  }
  // The control context ends a start within start-timeout; the margin
  // only covers its scheduling.
  auto bound = std::chrono::seconds(config_.start_timeout) + std::chrono::seconds(1);
  cv_.wait_for(lk, bound, [&] { return state_ != State::kStarting; });
  if (state_ == State::kReady)
    return {};
  if (state_ == State::kStarting)
    return "the launch line has not delivered within " +
           std::to_string(config_.start_timeout) + " s";
  return last_error_.empty() ? "the launch line is not running" : last_error_;
}

void LaunchRelay::media_started() {
  {
    std::lock_guard<std::mutex> g(lock_);
    medias_++;
  }
  on_control([this] { linger_.reset(); });
}

void LaunchRelay::media_ended() {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (medias_ > 0)
      medias_--;
    if (medias_ > 0)
      return;
  }
  on_control([this] {
    if (!wanted() && !stopped_)
      arm_linger();
  });
}

void LaunchRelay::arm_linger() {
  GSource* t = g_timeout_source_new_seconds(config_.linger);
  g_source_set_callback(
      t,
      [](gpointer self) noexcept -> gboolean {
        auto* r = static_cast<LaunchRelay*>(self);
        r->linger_ = SourceHolder();
        r->linger_expired();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  linger_ = SourceHolder(t);
  g_source_attach(t, control_.get());
}

void LaunchRelay::linger_expired() {
  {
    std::lock_guard<std::mutex> g(lock_);
    if (medias_ > 0)
      return;
  }
  if (wanted())
    return;
  GMS_LOG_INFO("path %s: no viewer for %u s; launch line stopped", config_.name.c_str(),
               config_.linger);
  retry_.reset();
  teardown();
  set_state(State::kIdle);
}

std::vector<Ref<GstCaps>> LaunchRelay::track_caps() const {
  std::lock_guard<std::mutex> g(lock_);
  return state_ == State::kReady ? caps_ : std::vector<Ref<GstCaps>>{};
}

std::vector<std::string> LaunchRelay::ready_channels() const {
  std::lock_guard<std::mutex> g(lock_);
  std::vector<std::string> out;
  if (state_ != State::kReady)
    return out;
  for (unsigned i = 0; i < streams_; ++i)
    out.push_back(relay_channel(config_.name, i));
  return out;
}

}  // namespace gms::mounts
