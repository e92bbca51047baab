#include "http/http_api.h"

#include <gst-mediaserver/config.h>
#include <gst-mediaserver/server.h>
#include <libsoup/soup.h>

#include <cstring>

#include "http/dashboard.h"
#include "http/direct_host.h"
#include "http/http_guard.h"
#include "http/http_log.h"
#include "http/same_origin.h"

GST_DEBUG_CATEGORY_STATIC(gms_http_debug);
#define GST_CAT_DEFAULT gms_http_debug

namespace gms::http {
namespace {

constexpr char kJson[] = "application/json";
constexpr char kPrometheus[] = "text/plain; version=0.0.4; charset=utf-8";
constexpr char kRecordingsPrefix[] = "/api/v1/recordings/";
constexpr char kPathsPrefix[] = "/api/v1/paths/";
constexpr char kSessionsPrefix[] = "/api/v1/sessions/";

void respond(SoupServerMessage* msg, unsigned status, const char* type, const std::string& text) {
  // An answer may quote a back end's URL or an error message: no secret
  // leaves in it.
  const std::string body = redact_secrets(text);
  soup_server_message_set_status(msg, status, nullptr);
  soup_server_message_set_response(msg, type, SOUP_MEMORY_COPY, body.data(), body.size());
}

void respond_error(SoupServerMessage* msg, unsigned status, const std::string& why) {
  respond(msg, status, kJson, error_json(why));
}

bool is_loopback(GSocketAddress* local) {
  if (!local || !G_IS_INET_SOCKET_ADDRESS(local))
    return false;
  GInetAddress* a = g_inet_socket_address_get_address(G_INET_SOCKET_ADDRESS(local));
  if (g_inet_address_get_is_loopback(a))
    return true;
  // ::ffff:127.0.0.1 on a dual-stack wildcard listener.
  if (g_inet_address_get_family(a) == G_SOCKET_FAMILY_IPV6) {
    const guint8* b = g_inet_address_to_bytes(a);
    static const guint8 kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(b, kMapped, 12) == 0 && b[12] == 127;
  }
  return false;
}

Route method_not_allowed(const char* allow) {
  Route r;
  r.kind = Route::kMethodNotAllowed;
  r.allow = allow;
  r.error = std::string("only ") + allow + " here";
  return r;
}

Route bad_request(std::string why) {
  Route r;
  r.kind = Route::kBadRequest;
  r.error = std::move(why);
  return r;
}

// "/api/v1/paths/live/cam1": the path "/live/cam1", checked like a
// configured name (a pattern's "*" too).
Route path_resource(const std::string& method, const std::string& rest) {
  if (method != "GET" && method != "HEAD" && method != "PATCH" && method != "DELETE")
    return method_not_allowed("GET, PATCH, DELETE");
  if (!g_utf8_validate(rest.data(), gssize(rest.size()), nullptr))
    return bad_request("the path is not UTF-8");
  std::string name = "/" + rest, why;
  if (!check_path_name(name, why, true))
    return bad_request(name + ": " + why);
  Route r;
  r.kind = method == "PATCH" ? Route::kPathPatch : method == "DELETE" ? Route::kPathDelete
                                                                      : Route::kPathGet;
  r.path = std::move(name);
  return r;
}

Route session_resource(const std::string& method, const std::string& id) {
  if (method != "DELETE")
    return method_not_allowed("DELETE");
  Route r;
  if (id.empty() || id.size() > 128 || id.find('/') != std::string::npos) {
    r.error = "no such session";
    return r;
  }
  r.kind = Route::kSessionDelete;
  r.path = id;
  return r;
}

// "/api/v1/recordings/live/cam1/start": the served path between the prefix
// and the action, checked like a configured name. libsoup has decoded the
// path already (and answered 400 itself to an escaped NUL).
Route recording_action(const std::string& method, const std::string& rest) {
  Route r;
  const auto slash = rest.rfind('/');
  const std::string action = slash == std::string::npos ? "" : rest.substr(slash + 1);
  if (slash == std::string::npos || slash == 0 || (action != "start" && action != "stop")) {
    r.error = "no such resource (use /api/v1/recordings/PATH/start or …/stop)";
    return r;
  }
  if (method != "POST")
    return method_not_allowed("POST");
  std::string why;
  if (!g_utf8_validate(rest.data(), gssize(slash), nullptr)) {
    r.kind = Route::kBadRequest;
    r.error = "the path is not UTF-8";
    return r;
  }
  std::string name = "/" + rest.substr(0, slash);
  if (!check_path_name(name, why)) {
    r.kind = Route::kBadRequest;
    r.error = name + ": " + why;
    return r;
  }
  r.kind = action == "start" ? Route::kRecordingStart : Route::kRecordingStop;
  r.path = std::move(name);
  return r;
}

// The worker's part of GET /api/v1/recordings: read every directory and
// build the JSON, away from the control context.
struct RecordingsJob {
  std::vector<RecordingEntry> entries;
  std::string json;
  Ref<SoupServerMessage> msg;
  std::shared_ptr<bool> alive;
};

}  // namespace

Route route_of(const std::string& method, const std::string& path) {
  const bool get = method == "GET" || method == "HEAD";
  Route r;
  if (path == "/api/v1/health") {
    if (!get)
      return method_not_allowed("GET");
    r.kind = Route::kHealth;
    return r;
  }
  if (path == "/api/v1/paths") {
    if (method == "POST") {
      r.kind = Route::kPathAdd;
      return r;
    }
    if (!get)
      return method_not_allowed("GET, POST");
    r.kind = Route::kPaths;
    return r;
  }
  if (path.rfind(kPathsPrefix, 0) == 0 && path.size() > sizeof kPathsPrefix - 1)
    return path_resource(method, path.substr(sizeof kPathsPrefix - 1));
  if (path == "/api/v1/sessions") {
    if (!get)
      return method_not_allowed("GET");
    r.kind = Route::kSessions;
    return r;
  }
  if (path.rfind(kSessionsPrefix, 0) == 0)
    return session_resource(method, path.substr(sizeof kSessionsPrefix - 1));
  if (path == "/api/v1/recordings" || path == "/metrics") {
    if (!get)
      return method_not_allowed("GET");
    r.kind = path == "/metrics" ? Route::kMetrics : Route::kRecordings;
    return r;
  }
  if (path.rfind(kRecordingsPrefix, 0) == 0)
    return recording_action(method, path.substr(sizeof kRecordingsPrefix - 1));
  if (path == "/api/v1/server" || path == "/" || path.rfind("/dashboard/", 0) == 0) {
    if (!get)
      return method_not_allowed("GET");
    r.kind = path == "/api/v1/server" ? Route::kServerInfo : Route::kDashboard;
    return r;
  }
  r.error = "no such resource (see /, /api/v1/paths, /api/v1/sessions, /api/v1/recordings, "
            "/api/v1/server, /api/v1/health, /metrics)";
  return r;
}

HttpApi::HttpApi(GMainContext* control, ApiBackend backend)
    : control_(Ref<GMainContext>::borrow(control)),
      backend_(std::move(backend)),
      auth_(std::make_unique<ApiAuth>(backend_.users)) {
  static gsize debug_once = 0;
  if (g_once_init_enter(&debug_once)) {
    GST_DEBUG_CATEGORY_INIT(gms_http_debug, "gmshttp", 0, "gst-mediaserver HTTP API");
    g_once_init_leave(&debug_once, 1);
  }
  // No Server: header: nothing to learn about the version from outside.
  server_ = Ref<SoupServer>::adopt(SOUP_SERVER(g_object_new(SOUP_TYPE_SERVER, nullptr)));
  soup_server_add_handler(server_.get(), nullptr, on_request, this, nullptr);
  guard_http_server(server_.get());
}

HttpApi::~HttpApi() {
  *alive_ = false;
  if (server_)
    soup_server_disconnect(server_.get());
}

void HttpApi::listen(uint16_t port, const std::string& address, GTlsCertificate* certificate) {
  auto addr =
      Ref<GSocketAddress>::adopt(g_inet_socket_address_new_from_string(address.c_str(), port));
  // libsoup attaches its listening source to the thread-default context.
  auto current = Ref<GMainContext>::adopt(g_main_context_ref_thread_default());
  const bool push = !(current == control_);
  if (push)
    g_main_context_push_thread_default(control_.get());
  // With the RTSPS certificate the API speaks HTTPS only: the admin calls
  // and their answers stay as private as the RTSPS sessions.
  if (certificate)
    soup_server_set_tls_certificate(server_.get(), certificate);
  auto options = certificate ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions(0);
  GErrorPtr err;
  gboolean ok = http::listen_on(server_.get(), addr.get(), options, out(err));
  if (push)
    g_main_context_pop_thread_default(control_.get());
  if (!ok)
    throw ConfigError({{"server", 0, "server", "http-port",
                        "cannot listen on " + address + ":" + std::to_string(port) + ": " +
                            (err ? err->message : "?")}});
  GSList* uris = soup_server_get_uris(server_.get());
  port_ = uris ? static_cast<uint16_t>(g_uri_get_port(static_cast<GUri*>(uris->data))) : port;
  g_slist_free_full(uris, reinterpret_cast<GDestroyNotify>(g_uri_unref));
  https_ = certificate != nullptr;
  GST_INFO("HTTP API on %s:%u%s", address.c_str(), port_, https_ ? " (HTTPS)" : "");
}

void HttpApi::on_request(SoupServer*, SoupServerMessage* msg, const char* path, GHashTable*,
                         gpointer self) noexcept {
  try {
    static_cast<HttpApi*>(self)->handle(msg, path);
  } catch (const std::exception& e) {
    GST_ERROR("%s: %s", path, e.what());
    respond_error(msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "internal error");
  }
}

void HttpApi::handle(SoupServerMessage* msg, const char* path) {
  const std::string method = soup_server_message_get_method(msg);
  Route route = route_of(method, path ? path : "");
  // Off loopback without users (the health listener) the health check is
  // all there is; with users every request is checked by its role below.
  if (!auth_->active() && !is_loopback(soup_server_message_get_local_address(msg)) &&
      route.kind != Route::kHealth) {
    respond_error(msg, SOUP_STATUS_FORBIDDEN, "only /api/v1/health is served on this address");
    return;
  }
  SoupMessageHeaders* headers = soup_server_message_get_request_headers(msg);
  const char* host = soup_message_headers_get_one(headers, "Host");
  if (!auth_->active() && route.kind != Route::kHealth && !direct_host(host)) {
    HTTP_LOG_INFO("HTTP: %s %s for host %s refused (403): no users, and not an address or "
                  "localhost", method.c_str(), path, host);
    respond_error(msg, SOUP_STATUS_FORBIDDEN,
                  "without users the API answers only to an IP address or localhost as Host");
    return;
  }
  if (cross_origin(soup_message_headers_get_one(headers, "Origin"),
                   soup_message_headers_get_one(headers, "Host"), https_)) {
    HTTP_LOG_INFO("HTTP: %s %s from another origin refused (403)", method.c_str(), path);
    respond_error(msg, SOUP_STATUS_FORBIDDEN, "requests from other origins are not served");
    return;
  }
  GST_DEBUG("%s %s: route %d", method.c_str(), path, route.kind);
  // The health check is open: a load balancer has no credentials, and it
  // tells no more than whether the server takes new sessions.
  if (route.kind != Route::kHealth && !auth_->allow(server_.get(), msg, method, route.path))
    return;
  switch (route.kind) {
    case Route::kNotFound:
      respond_error(msg, SOUP_STATUS_NOT_FOUND, route.error);
      return;
    case Route::kBadRequest:
      respond_error(msg, SOUP_STATUS_BAD_REQUEST, route.error);
      return;
    case Route::kMethodNotAllowed:
      soup_message_headers_replace(soup_server_message_get_response_headers(msg), "Allow",
                                   route.allow.c_str());
      respond_error(msg, SOUP_STATUS_METHOD_NOT_ALLOWED, route.error);
      return;
    case Route::kPaths:
      respond(msg, SOUP_STATUS_OK, kJson, paths_json(backend_.paths()));
      return;
    case Route::kRecordings:
      answer_recordings(msg);
      return;
    case Route::kHealth:
      answer_health(msg);
      return;
    case Route::kMetrics:
      respond(msg, SOUP_STATUS_OK, kPrometheus,
              metrics_text(backend_.counters(), backend_.recordings(), backend_.paths()));
      return;
    case Route::kServerInfo:
      respond(msg, SOUP_STATUS_OK, kJson, server_json(backend_.rtsp_port ? backend_.rtsp_port() : 0));
      return;
    case Route::kDashboard:
      answer_dashboard(msg, path);
      return;
    case Route::kRecordingStart:
    case Route::kRecordingStop: {
      const bool start = route.kind == Route::kRecordingStart;
      ApiBackend::Action a = backend_.set_recording(route.path, start);
      if (a.status != SOUP_STATUS_OK) {
        respond_error(msg, a.status, a.error);
        return;
      }
      HTTP_LOG_INFO("HTTP API: recording of %s %s", route.path.c_str(), start ? "started" : "stopped");
      respond(msg, SOUP_STATUS_OK, kJson, recording_state_json(route.path, a.state));
      return;
    }
    case Route::kSessions:
      respond(msg, SOUP_STATUS_OK, kJson, sessions_json(backend_.sessions()));
      return;
    case Route::kSessionDelete:
      if (!backend_.end_session(route.path)) {
        respond_error(msg, SOUP_STATUS_NOT_FOUND, "no session " + route.path);
        return;
      }
      HTTP_LOG_INFO("HTTP API: session %s ended", route.path.c_str());
      soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
      return;
    case Route::kPathGet:
      if (auto entry = backend_.path(route.path))
        respond(msg, SOUP_STATUS_OK, kJson, path_json(*entry));
      else
        respond_error(msg, SOUP_STATUS_NOT_FOUND, "no path " + route.path);
      return;
    case Route::kPathAdd:
    case Route::kPathPatch:
    case Route::kPathDelete:
      answer_path_change(msg, route);
      return;
  }
}

void HttpApi::answer_health(SoupServerMessage* msg) {
  if (backend_.draining && backend_.draining())
    respond(msg, SOUP_STATUS_SERVICE_UNAVAILABLE, kJson, R"({"status":"draining"})");
  else
    respond(msg, SOUP_STATUS_OK, kJson, R"({"status":"ok"})");
}

void HttpApi::listen_health(const std::string& address) {
  auto inet = Ref<GInetAddress>::adopt(g_inet_address_new_from_string(address.c_str()));
  if (!inet || address == "127.0.0.1")
    return;  // served already
  // Linux refuses a wildcard listener beside a specific one on the same
  // port: the wildcard one takes loopback's connections too.
  if (g_inet_address_get_is_any(inet.get()))
    soup_server_disconnect(server_.get());
  auto addr = Ref<GSocketAddress>::adopt(g_inet_socket_address_new(inet.get(), port_));
  auto current = Ref<GMainContext>::adopt(g_main_context_ref_thread_default());
  const bool push = !(current == control_);
  if (push)
    g_main_context_push_thread_default(control_.get());
  GErrorPtr err;
  // HTTPS like the API's own listener (which a wildcard one replaces).
  gboolean ok = http::listen_on(server_.get(), addr.get(),
                                   https_ ? SOUP_SERVER_LISTEN_HTTPS : SoupServerListenOptions(0), out(err));
  if (push)
    g_main_context_pop_thread_default(control_.get());
  if (!ok)
    throw ConfigError({{"server", 0, "server", "health-address",
                        "cannot listen on " + address + ":" + std::to_string(port_) + ": " +
                            (err ? err->message : "?")}});
  GST_INFO("health check on %s:%u", address.c_str(), port_);
}

void HttpApi::answer_path_change(SoupServerMessage* msg, const Route& route) {
  // Bodies over kMaxBody were refused before they were read (http_guard.h).
  SoupMessageBody* req = soup_server_message_get_request_body(msg);
  std::string body = req && req->data ? std::string(req->data, gsize(req->length)) : "";
  PathResult r = route.kind == Route::kPathAdd     ? backend_.add_path(body)
                           : route.kind == Route::kPathPatch ? backend_.patch_path(route.path, body)
                                                             : backend_.remove_path(route.path);
  if (r.status >= 400) {
    respond(msg, r.status, kJson, key_error_json(r.key, r.reason));
    return;
  }
  const char* what = route.kind == Route::kPathAdd ? "added" : route.kind == Route::kPathPatch
                                                                   ? "changed"
                                                                   : "removed";
  HTTP_LOG_NOTICE("HTTP API: path %s %s", r.name.c_str(), what);
  if (route.kind == Route::kPathDelete) {
    soup_server_message_set_status(msg, SOUP_STATUS_NO_CONTENT, nullptr);
    return;
  }
  auto entry = backend_.path(r.name);
  respond(msg, r.status, kJson, entry ? path_json(*entry) : "{}\n");
}

void HttpApi::answer_dashboard(SoupServerMessage* msg, const char* path) {
  auto file = dashboard_file(path);
  if (!file) {
    respond_error(msg, SOUP_STATUS_NOT_FOUND, "no such file");
    return;
  }
  SoupMessageHeaders* h = soup_server_message_get_response_headers(msg);
  // Its own files only: no inline script, nothing from elsewhere.
  soup_message_headers_replace(h, "Content-Security-Policy",
                               "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
  soup_message_headers_replace(h, "X-Content-Type-Options", "nosniff");
  soup_message_headers_replace(h, "Cache-Control", "no-cache");
  soup_server_message_set_status(msg, SOUP_STATUS_OK, nullptr);
  soup_server_message_set_response(msg, file->content_type, SOUP_MEMORY_COPY,
                                   static_cast<const char*>(g_bytes_get_data(file->bytes, nullptr)),
                                   g_bytes_get_size(file->bytes));
  g_bytes_unref(file->bytes);
}

void HttpApi::answer_recordings(SoupServerMessage* msg) {
  auto* job = new RecordingsJob{backend_.recordings(), {}, Ref<SoupServerMessage>::borrow(msg),
                                alive_};
  soup_server_message_pause(msg);
  // The answer comes back on the thread-default context of g_task_new: ours.
  auto current = Ref<GMainContext>::adopt(g_main_context_ref_thread_default());
  const bool push = !(current == control_);
  if (push)
    g_main_context_push_thread_default(control_.get());
  auto task = Ref<GTask>::adopt(g_task_new(
      nullptr, nullptr,
      [](GObject*, GAsyncResult* res, gpointer) noexcept {
        auto* j = static_cast<RecordingsJob*>(g_task_get_task_data(G_TASK(res)));
        // Our reference goes here, on the control context: libsoup's objects
        // are not for other threads.
        Ref<SoupServerMessage> msg = std::move(j->msg);
        if (!*j->alive)
          return;  // the server is gone: nothing to answer on
        respond(msg.get(), SOUP_STATUS_OK, kJson, j->json);
        soup_server_message_unpause(msg.get());
      },
      nullptr));
  if (push)
    g_main_context_pop_thread_default(control_.get());
  g_task_set_task_data(task.get(), job, [](gpointer j) { delete static_cast<RecordingsJob*>(j); });
  g_task_run_in_thread(task.get(), [](GTask* t, gpointer, gpointer data, GCancellable*) noexcept {
    auto* j = static_cast<RecordingsJob*>(data);
    try {
      for (auto& e : j->entries)
        e.segments = recorded_segments(e.directory);
      j->json = recordings_json(j->entries);
    } catch (const std::exception& e) {
      j->json = error_json(std::string("cannot list the recordings: ") + e.what());
    }
    g_task_return_boolean(t, TRUE);
  });
  // The running task keeps its own reference.
}

}  // namespace gms::http
