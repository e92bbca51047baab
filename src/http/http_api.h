// The HTTP API (libsoup 3): /api/v1/paths (GET, POST; GET, PATCH, DELETE
// of …/paths/NAME), /api/v1/sessions (GET; DELETE of …/sessions/ID),
// /api/v1/recordings (GET; POST …/{path}/start and …/stop), /api/v1/server
// and /metrics, JSON and Prometheus text; / and /dashboard/…: the
// dashboard, which reads the API.
//
// It listens on 127.0.0.1 only, whatever the RTSP address: there are no
// users yet, so only the machine itself may ask (on any other address the
// API will need a user with the admin role).
//
// Runs on the server's control context: the SoupServer listens and
// dispatches there (libsoup uses the thread-default context; the context
// given must be the one its thread runs as thread-default, as
// Server::attach() documents). Handlers only read the server's state
// through ApiBackend; what touches the disk (the segment lists) runs in a
// GTask worker thread, and the message waits paused meanwhile.
#pragma once

#include <gio/gio.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "http/api_auth.h"
#include "http/api_model.h"

typedef struct _SoupServer SoupServer;
typedef struct _SoupServerMessage SoupServerMessage;

namespace gms::http {

// What the API reads and does, supplied by the server (called on the
// control context only).
struct ApiBackend {
  std::function<std::vector<PathEntry>()> paths;
  // Without segments (those are read in a worker thread).
  std::function<std::vector<RecordingEntry>()> recordings;
  std::function<Counters()> counters;
  // The RTSP port viewers connect to (the dashboard's URLs).
  std::function<uint16_t()> rtsp_port;
  using Action = RecordingResult;
  // POST /api/v1/recordings/{path}/start (start = true) or …/stop.
  std::function<Action(const std::string& path, bool start)> set_recording;
  // GET /api/v1/health: 503 while the server drains before a stop.
  std::function<bool()> draining;
  // GET /api/v1/sessions; DELETE /api/v1/sessions/ID (false: no such session).
  std::function<SessionList()> sessions;
  std::function<bool(const std::string& id)> end_session;
  // GET /api/v1/paths/NAME (nullopt: no such path), with its readers.
  std::function<std::optional<PathEntry>(const std::string& name)> path;
  // POST /api/v1/paths, PATCH and DELETE /api/v1/paths/NAME.
  std::function<PathResult(const std::string& body)> add_path;
  std::function<PathResult(const std::string& name, const std::string& body)> patch_path;
  std::function<PathResult(const std::string& name)> remove_path;
  ApiUsers users;
};

// A request's method and path, decided before anything is read.
struct Route {
  enum Kind {
    kNotFound,
    kBadRequest,
    kMethodNotAllowed,
    kPaths,
    kRecordings,
    kRecordingStart,
    kRecordingStop,
    kMetrics,
    kHealth,
    kPathAdd,
    kPathGet,
    kPathPatch,
    kPathDelete,
    kSessions,
    kSessionDelete,
    kServerInfo,
    kDashboard
  } kind = kNotFound;
  std::string path;   // the served path, "/live/cam1"; a session's id
  std::string allow;  // 405: the methods that are allowed
  std::string error;  // 400 / 404: why
};
// `path` is the request's path as libsoup hands it over: decoded.
Route route_of(const std::string& method, const std::string& path);

class HttpApi {
 public:
  HttpApi(GMainContext* control, ApiBackend backend);
  ~HttpApi();
  HttpApi(const HttpApi&) = delete;
  HttpApi& operator=(const HttpApi&) = delete;

  // Listens on address:port (127.0.0.1 unless users exist), HTTPS with
  // `certificate` when given. Throws ConfigError (key http-port) when the
  // port cannot be bound.
  void listen(uint16_t port, const std::string& address = "127.0.0.1",
              GTlsCertificate* certificate = nullptr);
  // Also on `address` at the same port (after listen()), where only
  // GET /api/v1/health is answered: a load balancer on another host checks
  // it while the rest of the API stays on loopback. A wildcard address
  // covers loopback too, so it replaces the loopback listener.
  void listen_health(const std::string& address);
  uint16_t port() const { return port_; }
  bool https() const { return https_; }

 private:
  static void on_request(SoupServer* server, SoupServerMessage* msg, const char* path,
                         GHashTable* query, gpointer self) noexcept;
  void handle(SoupServerMessage* msg, const char* path);
  void answer_health(SoupServerMessage* msg);
  void answer_recordings(SoupServerMessage* msg);
  void answer_path_change(SoupServerMessage* msg, const Route& route);
  void answer_dashboard(SoupServerMessage* msg, const char* path);

  Ref<GMainContext> control_;
  ApiBackend backend_;
  Ref<SoupServer> server_;
  uint16_t port_ = 0;
  std::unique_ptr<ApiAuth> auth_;
  bool https_ = false;
  // Worker threads' answers come back after this object may be gone.
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gms::http
