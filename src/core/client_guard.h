// Per-connection hardening on top of gst-rtsp-server 1.22:
// a request body cap, sessions bound to the connection that made them,
// PLAY headers checked before the library sees them, session timeouts.
#pragma once

#include <gst/rtsp-server/rtsp-client.h>
#include <gst/rtsp-server/rtsp-media.h>
#include <gst/rtsp-server/rtsp-server-object.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/server_counters.h"

namespace gms {

class ClientSignals;

struct ClientPolicy {
  std::atomic<unsigned> max_request_size{65536};
  std::atomic<unsigned> session_timeout{60};
  std::atomic<uint64_t> next_client_id{1};
  std::atomic<unsigned> clients{0};  // open RTSP connections
  // Draining before a stop: requests that would start a new session get
  // 503 with Retry-After; sessions already open go on.
  std::atomic<bool> draining{false};
  ServerCounters counters;           // refusals and authentication failures, for /metrics

  unsigned connections_from(const std::string& address) const;
  void opened(const std::string& address);
  void closed(const std::string& address);

 private:
  mutable std::mutex lock_;  // protects per_address_
  std::map<std::string, unsigned> per_address_;

 public:
  // Before DESCRIBE and SETUP (client threads): a mount kind that creates
  // its mounts on demand (files) gets the request path and query; a status
  // other than 200 is the answer (503 with Retry-After: ask again soon). Set before the server listens, never changed.
  std::function<GstRTSPStatusCode(const std::string& abspath, const std::string& query,
                                  bool setup)>
      resolve;
};

// A GstRTSPServer (transfer full) whose clients seek file medias themselves
// in the library's play-mode hook and name Scale/Speed in PLAY replies as
// asked (both are subclass-only vfuncs of GstRTSPClient).
GstRTSPServer* new_rtsp_server();
// The handlers the clients of a server made by new_rtsp_server() run
// (client_signals.h): add them before it takes clients.
ClientSignals& client_signals(GstRTSPServer* server);

// Called from GstRTSPServer::client-connected (on the listening context).
void guard_client(GstRTSPClient* client, const std::shared_ptr<ClientPolicy>& policy);
// The guards' handlers (session ownership, Range/Scale checks, timeouts),
// run by every client of the server.
void add_client_guards(ClientSignals& signals, const std::shared_ptr<ClientPolicy>& policy);

// Marks a media whose pipeline may be seeked and scaled by its viewer. Every
// other media ignores Range, Scale and Speed on PLAY: a seek of a shared or
// live pipeline restarts it for every viewer.
void set_media_seekable(GstRTSPMedia* media, bool seekable);

// Marks a media that plays a file: its PLAY seeks (when seekable) are made
// here, and a PLAY that would reach gst-rtsp-server 1.22's get_rates()
// assertion (a set-up stream without a segment, CVE-2024-44331) gets 503.
void set_media_file(GstRTSPMedia* media);

// For a file media whose demuxer does not seek to key frames itself: called
// before each seek with the asked start (NONE: no Range, or a trick mode),
// returns where to seek the demuxer to, or NONE to seek as asked.
using SeekPlanner = std::function<GstClockTime(GstClockTime start)>;
void set_media_seek_planner(GstRTSPMedia* media, SeekPlanner planner);

// Marks a path whose source cannot be built now (an element not installed):
// DESCRIBE and SETUP get 503 with `reason` logged, before any pipeline is
// tried. The stock server would answer 400 after a critical.
void set_factory_unavailable(GstRTSPMediaFactory* factory, const std::string& reason);

// What a check run at DESCRIBE and SETUP of a factory's path answers: the
// path can serve (OK), cannot now (503 with the reason, from a plain
// string), or has nothing under that name (404: a proxy whose back end
// answered 404).
struct Availability {
  GstRTSPStatusCode code = GST_RTSP_STS_OK;
  std::string why;
  // The factory was unmounted meanwhile: look the path up again.
  bool look_again = false;
  Availability() = default;
  Availability(std::string reason)  // NOLINT: a reason is a 503
      : code(reason.empty() ? GST_RTSP_STS_OK : GST_RTSP_STS_SERVICE_UNAVAILABLE),
        why(std::move(reason)) {}
  static Availability not_found(std::string reason) {
    Availability a(std::move(reason));
    a.code = GST_RTSP_STS_NOT_FOUND;
    return a;
  }
};

// A check run at DESCRIBE and SETUP of the factory's path, on an RTSP client
// thread (it may wait a bounded time, e.g. for a proxy's back end).
using AvailabilityCheck = std::function<Availability()>;
void set_factory_availability(GstRTSPMediaFactory* factory, AvailabilityCheck check);

}  // namespace gms
