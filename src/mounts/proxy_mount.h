// Proxy paths: one back-end RTSP session (ProxySource) per path, whatever the
// number of viewers. The back end's RTP goes, per stream, into a relay
// channel; every viewer shares one PLAY media of msrelaysrc elements, so a
// viewer joining or leaving never touches the back end, and when the back
// end fails and returns the viewers stay and continue (the relay keeps
// sequence numbers, timestamps and SSRC going).
#pragma once

#include <gst-mediaserver/config.h>
#include <gst/rtsp-server/rtsp-media-factory.h>

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/client_guard.h"
#include "gms/ref.h"
#include "gms/signal.h"
#include "path/source.h"
#include "proxy/proxy_source.h"

namespace gms::mounts {

class ProxyPath;

struct ProxyMount {
  Ref<GstRTSPMediaFactory> factory;
  std::shared_ptr<ProxyPath> path;
};

// The factory for a proxy path. Nothing connects until start().
ProxyMount make_proxy_factory(const PathConfig& path, GstRTSPAddressPool* pool);

class ProxyPath : public Source, public std::enable_shared_from_this<ProxyPath> {
 public:
  explicit ProxyPath(const PathConfig& path);
  ~ProxyPath() override;

  const char* kind() const override { return "proxy"; }
  // On the control context: always-on paths connect now; on-demand ones at
  // their first viewer.
  void attach(GMainContext* control) override { start(control); }
  void start(GMainContext* control);
  void stop() override;
  // An on-demand back end is recorded while it is watched.
  void hold(bool) override {}
  // The back end's streams' channels while it delivers.
  std::vector<std::string> ready_channels() const override;
  // As the back end's SDP describes them.
  std::vector<Ref<GstCaps>> track_caps() const override;
  bool live() const override { return is_connected(); }
  PathState path_state() const override;
  // Back-end sessions that delivered after one that was lost.
  uint64_t reconnects() const override { return reconnects_; }
  bool returns_after_outage() const override { return true; }

  // On an RTSP client thread, before a viewer's media is made: OK when the
  // back end delivers (connecting first for an on-demand path, waiting up
  // to a few seconds), 404 when it answered that it has no such stream,
  // else 503 and why.
  Availability wait_ready();
  // A viewer media of this path started / ended (any thread).
  void media_started();
  void media_ended();

  // Control context: true, and from then on refusing viewers, when nothing
  // uses the path (no viewer, none asking, back end stopped): a path made
  // under a pattern then goes.
  bool retire_if_idle();

  // The streams of the back end as they were when it last connected.
  std::vector<proxy::StreamInfo> streams() const;
  // The back end delivers now.
  bool is_connected() const;
  const PathConfig& config() const { return config_; }

 private:
  void on_control(std::function<void()> fn);
  void connected(const std::vector<proxy::StreamInfo>& streams);
  void lost(const std::string& why);
  void linger_expired();
  void start_linger(unsigned seconds);  // control context

  const PathConfig config_;
  Ref<GMainContext> control_;  // set by start()
  std::unique_ptr<proxy::ProxySource> source_;  // control context only
  SourceHolder linger_;                         // control context only
  bool lost_ = false;                           // control context only
  uint64_t reconnects_ = 0;                     // control context only

  mutable std::mutex lock_;  // protects everything below
  std::condition_variable cv_;
  std::vector<proxy::StreamInfo> streams_;
  bool connected_ = false;
  std::string last_error_;
  bool not_found_ = false;  // the last failure was the back end's 404
  uint64_t failures_ = 0;   // lost() calls, so that a waiter sees each
  unsigned medias_ = 0;
  unsigned waiters_ = 0;    // in wait_ready() now
  gint64 touched_us_ = 0;  // when wait_ready() last ran
  gint64 ended_us_ = 0;    // when the last viewer media ended
  bool asked_ = false;     // wait_ready() ran once
  bool retired_ = false;
};

}  // namespace gms::mounts
