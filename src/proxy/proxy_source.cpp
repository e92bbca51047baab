#include "proxy/proxy_source.h"

#include <cstdio>
#include <memory>
#include <mutex>

#include "core/log.h"
#include "proxy/certificate_problems.h"
#include "proxy/pipeline_reaper.h"

GST_DEBUG_CATEGORY_STATIC(gms_proxy_debug);
#define GST_CAT_DEFAULT gms_proxy_debug

namespace gms::proxy {

struct ProxySource::PadContext {
  std::shared_ptr<BackendLink> link;
  unsigned index;
};

namespace {

gint64 now_us() { return g_get_monotonic_time(); }

// rtspsrc's error for a reply of 404 to its DESCRIBE: the back end is up
// but has no such stream (an origin without that publisher).
bool is_not_found(GstMessage* msg, const GError* err) {
  const GstStructure* details = nullptr;
  gst_message_parse_error_details(msg, &details);
  guint code = 0;
  if (details && gst_structure_get_uint(details, "rtsp-status-code", &code))
    return code == GST_RTSP_STS_NOT_FOUND;
  return err && err->domain == GST_RESOURCE_ERROR && err->code == GST_RESOURCE_ERROR_NOT_FOUND;
}

// How long a session that played may take to close politely (rtspsrc sends
// TEARDOWN, waiting up to its teardown-timeout) before it is cut off.
constexpr auto kCloseGrace = std::chrono::milliseconds(1500);
constexpr guint64 kTeardownTimeoutNs = 500 * GST_MSECOND;

using LinkPtr = std::shared_ptr<BackendLink>;
LinkPtr& link_of(gpointer data) { return *static_cast<LinkPtr*>(data); }
void free_link(gpointer data, GClosure*) noexcept { delete static_cast<LinkPtr*>(data); }

// "recv_rtp_src_1_12345_96" → 1.
unsigned stream_index(GstPad* pad) {
  GCharPtr name(gst_pad_get_name(pad));
  unsigned idx = 0;
  if (sscanf(name.get(), "recv_rtp_src_%u_", &idx) == 1)
    return idx;
  return 0;
}

}  // namespace

const char* to_string(State s) {
  switch (s) {
    case State::kStopped:
      return "stopped";
    case State::kConnecting:
      return "connecting";
    case State::kPlaying:
      return "playing";
    case State::kRetrying:
      return "retrying";
  }
  return "?";
}

ProxySource::ProxySource(std::string name, BackendOptions options, GMainContext* control,
                         Callbacks callbacks)
    : name_(std::move(name)),
      options_(std::move(options)),
      control_(Ref<GMainContext>::borrow(control)),
      callbacks_(std::move(callbacks)),
      policy_(options_.backoff_cap) {
  static std::once_flag once;
  std::call_once(once, [] {
    GST_DEBUG_CATEGORY_INIT(gms_proxy_debug, "gmsproxy", 0, "gst-mediaserver proxy back ends");
  });
  BackendLink::watch_connections();
}

ProxySource::~ProxySource() { stop(); }

std::string ProxySource::display_url() const {
  std::string u = options_.url;
  auto scheme = u.find("://");
  auto at = u.find('@');
  if (scheme != std::string::npos && at != std::string::npos && at > scheme) {
    auto colon = u.find(':', scheme + 3);
    if (colon != std::string::npos && colon < at)
      u.replace(colon + 1, at - colon - 1, "***");
  }
  return u;
}

Status ProxySource::status() const { return status_; }

void ProxySource::start() {
  if (running_)
    return;
  running_ = true;
  policy_.reset();
  connect();
}

void ProxySource::stop() {
  running_ = false;
  timer_.reset();
  teardown();
  status_.state = State::kStopped;
}

void ProxySource::schedule(std::chrono::milliseconds delay, GSourceFunc fn) {
  GSource* src = g_timeout_source_new(static_cast<guint>(delay.count()));
  g_source_set_callback(src, fn, this, nullptr);
  timer_ = SourceHolder(src);
  g_source_attach(src, control_.get());
}

void ProxySource::connect() {
  teardown();
  unsigned gen = ++generation_;
  status_.state = State::kConnecting;
  status_.retry_in = std::chrono::milliseconds(0);
  connect_started_us_ = now_us();
  got_data_ = false;
  last_data_us_ = now_us();

  pipeline_ = Ref<GstElement>::adopt(gst_pipeline_new(("proxy" + name_).c_str()));
  rtspsrc_ = Ref<GstElement>::adopt(gst_element_factory_make("rtspsrc", nullptr));
  if (!rtspsrc_) {
    fail("rtspsrc is not installed (gstreamer1.0-plugins-good)");
    return;
  }
  link_ = std::make_shared<BackendLink>(this);
  configure_rtspsrc();
  connect_link_signal("pad-added", G_CALLBACK(pad_added_cb));
  connect_link_signal("no-more-pads", G_CALLBACK(no_more_pads_cb));
  connect_link_signal("select-stream", G_CALLBACK(select_stream_cb));
  connect_link_signal("before-send", G_CALLBACK(before_send_cb));
  if (options_.tls_verify)
    connect_link_signal("accept-certificate", G_CALLBACK(accept_certificate_cb));
  // rtspsrc_ holds a full reference (Ref sinks the floating one), so the bin
  // takes a reference of its own: another one here would never be dropped,
  // and every back-end session (each reconnect) would leak its rtspsrc.
  gst_bin_add(GST_BIN(pipeline_.get()), rtspsrc_.get());

  auto bus = Ref<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
  GSource* watch = gst_bus_create_watch(bus.get());
  g_source_set_callback(watch, G_SOURCE_FUNC(bus_cb), this, nullptr);
  bus_watch_ = SourceHolder(watch);
  g_source_attach(watch, control_.get());

  GSource* dog = g_timeout_source_new(250);
  g_source_set_callback(
      dog, [](gpointer self) noexcept -> gboolean { return static_cast<ProxySource*>(self)->watchdog(); },
      this, nullptr);
  watchdog_ = SourceHolder(dog);
  g_source_attach(dog, control_.get());

  GMS_LOG_INFO("proxy %s: connecting to %s", name_.c_str(), display_url().c_str());
  GST_INFO("proxy %s: generation %u", name_.c_str(), gen);
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    fail("cannot start rtspsrc");
}

void ProxySource::connect_link_signal(const char* signal, GCallback cb) {
  // Each handler holds the link: it may run after this session was dropped.
  g_signal_connect_data(rtspsrc_.get(), signal, cb, new LinkPtr(link_), free_link,
                        GConnectFlags(0));
}

void ProxySource::configure_rtspsrc() {
  std::string url = options_.url;
  if (options_.transport == Transport::kHttp) {
    // rtspsrc tunnels RTSP over HTTP for rtsph:// URLs, on the URL's port.
    if (url.rfind("rtsp://", 0) == 0)
      url.replace(0, 4, "rtsph");
    if (options_.http_port) {
      auto host = url.find("://") + 3;
      auto at = url.find('@', host);
      auto slash = url.find('/', host);
      size_t hstart = (at != std::string::npos && at < slash) ? at + 1 : host;
      auto colon = url.find(':', hstart);
      size_t hend = (colon != std::string::npos && colon < slash) ? colon : slash;
      url.replace(hend, slash - hend, ":" + std::to_string(options_.http_port));
    }
  }
  g_object_set(rtspsrc_.get(), "location", url.c_str(), "latency", options_.latency_ms,
               "tcp-timeout", guint64(options_.connect_timeout.count()) * 1000000,
               "timeout", guint64(options_.stall_timeout.count()) * 1000000,
               "teardown-timeout", kTeardownTimeoutNs, "do-rtsp-keep-alive", TRUE,
               "ntp-sync", FALSE, nullptr);
  switch (options_.transport) {
    case Transport::kUdp:
      gst_util_set_object_arg(G_OBJECT(rtspsrc_.get()), "protocols", "udp");
      break;
    case Transport::kTcp:
      gst_util_set_object_arg(G_OBJECT(rtspsrc_.get()), "protocols", "tcp");
      break;
    case Transport::kHttp:
      gst_util_set_object_arg(G_OBJECT(rtspsrc_.get()), "protocols", "tcp+http");
      break;
    case Transport::kAuto:
      break;
  }
  if (options_.tls_ca)
    g_object_set(rtspsrc_.get(), "tls-database", options_.tls_ca.get(), nullptr);
  if (!options_.tls_verify)
    g_object_set(rtspsrc_.get(), "tls-validation-flags", G_TLS_CERTIFICATE_NO_FLAGS, nullptr);
  if (!options_.user.empty())
    g_object_set(rtspsrc_.get(), "user-id", options_.user.c_str(), "user-pw",
                 options_.password.c_str(), nullptr);
}

// Never waits for rtspsrc: the pipeline goes to a thread of its own. A
// session that never played is cut off at once (there is nothing to close
// politely, and its back end may be what keeps rtspsrc busy).
void ProxySource::teardown() {
  watchdog_.reset();
  keepalive_.reset();
  bus_watch_.reset();
  if (link_) {
    link_->detach();  // no probe or signal of this session reaches us after this
    if (pipeline_) {
      auto grace = link_->established() ? kCloseGrace : std::chrono::milliseconds(0);
      reap_pipeline(std::move(pipeline_), link_, grace);
    }
  }
  rtspsrc_.reset();
  pipeline_.reset();
  link_.reset();
  std::lock_guard<std::mutex> g(pads_lock_);
  streams_.clear();
}

void ProxySource::fail(const std::string& why, bool not_found) {
  teardown();
  status_.failures++;
  status_.last_error = why;
  status_.not_found = not_found;
  if (!running_) {
    status_.state = State::kStopped;
    return;
  }
  auto delay = policy_.next_delay();
  status_.state = State::kRetrying;
  status_.retry_in = delay;
  GMS_LOG_WARN("proxy %s: %s: %s; retrying in %.0f s", name_.c_str(), display_url().c_str(),
               why.c_str(), delay.count() / 1000.0);
  if (callbacks_.lost)
    callbacks_.lost(why);
  if (!running_)
    return;  // the owner stopped us from its callback (no one wants the stream)
  schedule(delay, [](gpointer self) noexcept -> gboolean {
    auto* p = static_cast<ProxySource*>(self);
    p->timer_ = SourceHolder();  // destroying our own source inside its callback is safe
    p->connect();
    return G_SOURCE_REMOVE;
  });
}

bool ProxySource::watchdog() {
  gint64 now = now_us();
  if (status_.state == State::kConnecting && !got_data_ &&
      now - connect_started_us_ > options_.connect_timeout.count() * G_USEC_PER_SEC) {
    fail("no media within " + std::to_string(options_.connect_timeout.count()) + " s");
    return G_SOURCE_REMOVE;
  }
  if (got_data_ && now - last_data_us_ > options_.stall_timeout.count() * G_USEC_PER_SEC) {
    fail("no data for " + std::to_string(options_.stall_timeout.count()) + " s");
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

gboolean ProxySource::bus_cb(GstBus*, GstMessage* msg, gpointer self) noexcept {
  static_cast<ProxySource*>(self)->on_bus_message(msg);
  return G_SOURCE_CONTINUE;
}

void ProxySource::on_bus_message(GstMessage* msg) {
  switch (GST_MESSAGE_TYPE(msg)) {
    case GST_MESSAGE_ERROR: {
      GErrorPtr err;
      gchar* dbg = nullptr;
      gst_message_parse_error(msg, out(err), &dbg);
      GCharPtr debug(dbg);
      GST_INFO("proxy %s: %s (%s)", name_.c_str(), err->message, debug ? debug.get() : "");
      // rtspsrc's message is generic ("Could not read from resource."); the
      // last line of its debug text says what happened ("Unauthorized (401)").
      std::string why = err ? err->message : "error";
      if (GTlsCertificateFlags bad = link_ ? link_->certificate_errors() : GTlsCertificateFlags(0))
        why = "the back end's certificate was refused: " + certificate_problems(bad);
      else if (debug) {
        std::string d = debug.get();
        auto nl = d.find_last_of('\n');
        std::string detail = nl == std::string::npos ? std::string() : d.substr(nl + 1);
        if (!detail.empty() && detail.size() < 200)
          why += " " + detail;
      }
      fail(why, is_not_found(msg, err.get()));
      break;
    }
    case GST_MESSAGE_EOS:
      fail("the back end ended the stream");
      break;
    case GST_MESSAGE_ELEMENT:
      if (gst_message_has_name(msg, "GstRTSPSrcTimeout"))
        fail("the back end stopped sending");
      break;
    case GST_MESSAGE_APPLICATION:
      if (gst_message_has_name(msg, "gms-no-more-pads"))
        on_no_more_pads();
      else if (gst_message_has_name(msg, "gms-too-many-requests"))
        fail("the back end did not let the session open within " +
             std::to_string(kMaxOpeningRequests) + " requests (a redirect loop?)");
      break;
    default:
      break;
  }
}

void ProxySource::pad_added_cb(GstElement*, GstPad* pad, gpointer link) noexcept {
  BackendLink::Use use = link_of(link)->use();
  if (use.owner())
    use.owner()->on_pad_added(pad);
}

// rtspsrc's streaming thread, with the session's link held: a sink behind
// each stream, a probe to see its caps and packets.
void ProxySource::on_pad_added(GstPad* pad) {
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC)
    return;
  auto* ctx = new PadContext{link_, stream_index(pad)};
  auto caps = Ref<GstCaps>::adopt(gst_pad_get_current_caps(pad));
  {
    std::lock_guard<std::mutex> g(pads_lock_);
    streams_.push_back({ctx->index, caps});
  }
  if (caps && callbacks_.caps)
    callbacks_.caps(ctx->index, caps.get());
  GstElement* sink = nullptr;
  if (callbacks_.relay_channel) {
    sink = gst_element_factory_make("msrelaysink", nullptr);
    if (sink)
      g_object_set(sink, "channel", callbacks_.relay_channel(ctx->index).c_str(), nullptr);
    else
      GST_ERROR("proxy %s: msrelaysink is not registered", name_.c_str());
  }
  if (!sink) {
    sink = gst_element_factory_make("fakesink", nullptr);
    g_object_set(sink, "sync", FALSE, "async", FALSE, "enable-last-sample", FALSE, nullptr);
  }
  gst_bin_add(GST_BIN(pipeline_.get()), sink);
  gst_element_sync_state_with_parent(sink);
  GstElement* first = sink;
  if (Ref<GstElement> tap = callbacks_.relay_channel && callbacks_.tap ? callbacks_.tap(ctx->index)
                                                                        : Ref<GstElement>()) {
    gst_bin_add(GST_BIN(pipeline_.get()), tap.get());
    if (gst_element_link(tap.get(), sink)) {
      gst_element_sync_state_with_parent(tap.get());
      first = tap.get();
    } else {
      gst_bin_remove(GST_BIN(pipeline_.get()), tap.get());
    }
  }
  auto sinkpad = Ref<GstPad>::adopt(gst_element_get_static_pad(first, "sink"));
  unsigned index = ctx->index;
  gst_pad_add_probe(pad,
                    GstPadProbeType(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST |
                                    GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM),
                    probe_cb, ctx, [](gpointer c) { delete static_cast<PadContext*>(c); });
  if (gst_pad_link(pad, sinkpad.get()) != GST_PAD_LINK_OK)
    GST_WARNING("proxy %s: cannot link stream %u", name_.c_str(), index);
}

void ProxySource::no_more_pads_cb(GstElement* src, gpointer) noexcept {
  // To the control context through the bus, which is already watched there.
  gst_element_post_message(
      src, gst_message_new_application(GST_OBJECT(src), gst_structure_new_empty("gms-no-more-pads")));
}

// Streams past the cap are not set up at all: no SETUP, no sockets, no threads.
gboolean ProxySource::select_stream_cb(GstElement*, guint num, GstCaps*, gpointer link) noexcept {
  if (num < kMaxBackendTracks)
    return TRUE;
  BackendLink::Use use = link_of(link)->use();
  if (use.owner() && num == kMaxBackendTracks)
    GMS_LOG_WARN("proxy %s: the back end offers more than %u streams; the others are ignored",
                 use.owner()->name_.c_str(), kMaxBackendTracks);
  return FALSE;
}

// rtspsrc's thread, before each request it sends.
// rtspsrc's thread, when the back end's certificate failed the checks
// (the configured CA file's, or the system's): noted for the failure's
// log line, and refused.
gboolean ProxySource::accept_certificate_cb(GstElement*, GTlsConnection*, GTlsCertificate*,
                                            GTlsCertificateFlags errors, gpointer link) noexcept {
  link_of(link)->note_certificate_refused(errors);
  return FALSE;
}

gboolean ProxySource::before_send_cb(GstElement* src, GstRTSPMessage* msg,
                                     gpointer data) noexcept {
  LinkPtr& link = link_of(data);
  BackendLink::claim_thread(link);
  GstRTSPMethod method = GST_RTSP_INVALID;
  if (gst_rtsp_message_parse_request(msg, &method, nullptr, nullptr) != GST_RTSP_OK)
    return TRUE;
  if (link->established() || (method != GST_RTSP_OPTIONS && method != GST_RTSP_DESCRIBE))
    return TRUE;
  unsigned n = link->count_opening_request();
  if (n <= kMaxOpeningRequests)
    return TRUE;
  // A redirect loop (or a back end that never lets the session open): not
  // sent, the connection is cut, and the control context fails the session,
  // which retries on the back-off schedule.
  link->abort();
  if (n == kMaxOpeningRequests + 1)
    gst_element_post_message(
        src, gst_message_new_application(GST_OBJECT(src),
                                         gst_structure_new_empty("gms-too-many-requests")));
  return FALSE;
}

void ProxySource::on_no_more_pads() {
  std::vector<StreamInfo> streams;
  {
    std::lock_guard<std::mutex> g(pads_lock_);
    streams = streams_;
  }
  if (link_)
    link_->set_established();
  // rtspsrc adds a stream's pad at its first packet: this session delivers,
  // so the back-off starts again at 1 s next time.
  status_.state = State::kPlaying;
  status_.connects++;
  policy_.reset();
  if (options_.keepalive.count() > 0) {
    GSource* ka = g_timeout_source_new_seconds(static_cast<guint>(options_.keepalive.count()));
    g_source_set_callback(
        ka,
        [](gpointer self) noexcept -> gboolean {
          static_cast<ProxySource*>(self)->send_keepalive();
          return G_SOURCE_CONTINUE;
        },
        this, nullptr);
    keepalive_ = SourceHolder(ka);
    g_source_attach(ka, control_.get());
  }
  GMS_LOG_INFO("proxy %s: playing %zu stream(s) from %s", name_.c_str(), streams.size(),
               display_url().c_str());
  if (callbacks_.connected)
    callbacks_.connected(streams);
}

// An empty GET_PARAMETER; rtspsrc sends it only if the back end listed
// GET_PARAMETER in its OPTIONS reply. The reply is not needed.
void ProxySource::send_keepalive() {
  if (!rtspsrc_)
    return;
  gchar* none[] = {nullptr};
  GstPromise* promise = gst_promise_new();
  gboolean sent = FALSE;
  g_signal_emit_by_name(rtspsrc_.get(), "get-parameters", none, nullptr, promise, &sent);
  gst_promise_unref(promise);
  GST_DEBUG("proxy %s: keep-alive %s", name_.c_str(), sent ? "sent" : "not sent");
}

void ProxySource::on_caps(unsigned index, GstCaps* caps) {
  {
    std::lock_guard<std::mutex> g(pads_lock_);
    for (auto& st : streams_)
      if (st.index == index)
        st.caps = Ref<GstCaps>::borrow(caps);
  }
  if (callbacks_.caps)
    callbacks_.caps(index, caps);
}

GstPadProbeReturn ProxySource::probe_cb(GstPad*, GstPadProbeInfo* info, gpointer data) noexcept {
  auto* ctx = static_cast<PadContext*>(data);
  BackendLink::Use use = ctx->link->use();
  ProxySource* self = use.owner();
  // A session being stopped: its packets must not reach the relay channel,
  // where the next session may already be the producer.
  if (!self)
    return GST_PAD_PROBE_DROP;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent* ev = GST_PAD_PROBE_INFO_EVENT(info);
    if (GST_EVENT_TYPE(ev) == GST_EVENT_CAPS) {
      GstCaps* caps = nullptr;
      gst_event_parse_caps(ev, &caps);
      self->on_caps(ctx->index, caps);
    }
    return GST_PAD_PROBE_OK;
  }
  self->last_data_us_ = now_us();
  self->got_data_ = true;
  if (!self->callbacks_.rtp)
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    self->callbacks_.rtp(ctx->index, GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
    guint n = gst_buffer_list_length(list);
    for (guint i = 0; i < n; ++i)
      self->callbacks_.rtp(ctx->index, gst_buffer_list_get(list, i));
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace gms::proxy
