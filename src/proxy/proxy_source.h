// ProxySource: one back-end RTSP session (rtspsrc) for a proxied path. It
// connects, hands the back end's RTP packets and caps to its owner, watches
// for stalls, and when the back end fails it tears down and tries again on
// the ReconnectPolicy's schedule, until stopped. Lives on the control
// context: start(), stop() and the connected/lost callbacks run there; the
// caps/rtp callbacks run on rtspsrc's streaming threads and must not block.
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>
#include <gst/rtsp/gstrtspmessage.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "gms/signal.h"
#include "proxy/backend_link.h"
#include "proxy/reconnect_policy.h"

namespace gms::proxy {

enum class Transport { kAuto, kUdp, kTcp, kHttp };

struct BackendOptions {
  std::string url;                 // rtsp://[user:pass@]host[:port]/path
  Transport transport = Transport::kAuto;
  uint16_t http_port = 0;          // kHttp: the back end's RTSP-over-HTTP port (-T)
  std::string user, password;      // also accepted inside the URL
  unsigned latency_ms = 0;         // rtspsrc jitterbuffer; 0 relays at once
  std::chrono::seconds stall_timeout{5};    // no packet for this long: reconnect
  std::chrono::seconds connect_timeout{5};  // no stream within this long: retry
  std::chrono::seconds backoff_cap{256};
  // GET_PARAMETER to the back end this often while playing: rtspsrc 1.22
  // sends no keep-alive over TCP while data flows, and some cameras then
  // drop the session at their timeout. 0: none.
  std::chrono::seconds keepalive{20};
  // rtsps:// back ends: their certificate must chain to these CAs (null: the
  // system's), unless `tls_verify` is off (self-signed cameras).
  Ref<GTlsDatabase> tls_ca;
  bool tls_verify = true;
};

// The publish side's cap on tracks, for the same reason: each track costs
// rtspsrc threads and sockets.
constexpr unsigned kMaxBackendTracks = 8;
// OPTIONS and DESCRIBE requests a session may send before it plays: enough
// for an authentication retry and three redirects.
constexpr unsigned kMaxOpeningRequests = 8;

enum class State { kStopped, kConnecting, kPlaying, kRetrying };
const char* to_string(State s);

struct Status {
  State state = State::kStopped;
  std::string last_error;
  std::chrono::milliseconds retry_in{0};
  uint64_t connects = 0;  // sessions that delivered data
  uint64_t failures = 0;
  // The last failure was the back end's 404: it has no such stream (as
  // opposed to being down), which a viewer is told as such.
  bool not_found = false;
};

struct StreamInfo {
  unsigned index = 0;  // the back end's stream number
  Ref<GstCaps> caps;   // application/x-rtp with the SDP's attributes
};

class ProxySource {
 public:
  struct Callbacks {
    std::function<void(unsigned stream, GstCaps* caps)> caps;       // streaming thread
    std::function<void(unsigned stream, GstBuffer* rtp)> rtp;       // streaming thread
    std::function<void(const std::vector<StreamInfo>&)> connected;  // control context
    std::function<void(const std::string& why)> lost;               // control context
    // When set, stream N's packets also go into this relay channel
    // (msrelaysink): the path's viewers read it, whatever back-end session
    // it came from.
    std::function<std::string(unsigned stream)> relay_channel;
    // When set (with relay_channel), an element it returns (msstats) goes
    // in front of stream N's relay sink.
    std::function<Ref<GstElement>(unsigned stream)> tap;
  };

  ProxySource(std::string name, BackendOptions options, GMainContext* control,
              Callbacks callbacks);
  ~ProxySource();
  ProxySource(const ProxySource&) = delete;
  ProxySource& operator=(const ProxySource&) = delete;

  void start();
  void stop();
  Status status() const;
  const std::string& name() const { return name_; }
  // The URL with any password masked, for logs.
  std::string display_url() const;

 private:
  struct PadContext;

  void connect();
  void configure_rtspsrc();
  void teardown();
  void fail(const std::string& why, bool not_found = false);
  void schedule(std::chrono::milliseconds delay, GSourceFunc fn);
  bool watchdog();
  void on_bus_message(GstMessage* msg);
  void on_pad_added(GstPad* pad);
  void on_no_more_pads();

  void on_caps(unsigned index, GstCaps* caps);
  void connect_link_signal(const char* signal, GCallback cb);

  // rtspsrc's signals and probes get the session's BackendLink, never `this`.
  static gboolean bus_cb(GstBus*, GstMessage* msg, gpointer self) noexcept;
  static void pad_added_cb(GstElement* src, GstPad* pad, gpointer link) noexcept;
  static void no_more_pads_cb(GstElement*, gpointer link) noexcept;
  static gboolean select_stream_cb(GstElement*, guint num, GstCaps*, gpointer link) noexcept;
  static gboolean before_send_cb(GstElement* src, GstRTSPMessage* msg, gpointer link) noexcept;
  static gboolean accept_certificate_cb(GstElement*, GTlsConnection*, GTlsCertificate*,
                                        GTlsCertificateFlags errors, gpointer link) noexcept;
  static GstPadProbeReturn probe_cb(GstPad*, GstPadProbeInfo* info, gpointer ctx) noexcept;

  const std::string name_;
  const BackendOptions options_;
  Ref<GMainContext> control_;
  Callbacks callbacks_;
  ReconnectPolicy policy_;

  // Control context only.
  Ref<GstElement> pipeline_;
  Ref<GstElement> rtspsrc_;
  std::shared_ptr<BackendLink> link_;
  SourceHolder bus_watch_, timer_, watchdog_, keepalive_;
  void send_keepalive();
  Status status_;
  gint64 connect_started_us_ = 0;
  bool running_ = false;

  // Written by streaming threads (through link_, while attached).
  std::atomic<gint64> last_data_us_{0};
  std::atomic<bool> got_data_{false};
  std::vector<StreamInfo> streams_;  // guarded by pads_lock_
  mutable std::mutex pads_lock_;     // after the link's lock
  std::atomic<unsigned> generation_{0};
};

}  // namespace gms::proxy
