// gst-mediaserver: the RTSP server, for the program and for applications
// that embed it on their own GLib main loop.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst-mediaserver/events.h>
#include <gst-mediaserver/status.h>

#include <glib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace gms {

class Server {
 public:
  // Builds the server from a validated configuration (Config::load).
  // Initializes GStreamer if the application has not. Throws ConfigError.
  explicit Server(const Config& config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the RTSP port and serves on `context` (the thread-default context
  // when null); binds the HTTP API (http-port, on 127.0.0.1) there too. The
  // thread that runs `context` must run it as its thread-default context
  // (g_main_context_push_thread_default), as the HTTP API's I/O goes to the
  // thread-default context. Throws ConfigError when a port cannot be bound.
  void attach(GMainContext* context = nullptr);

  // Applies a new configuration: paths added, removed or changed take effect;
  // sessions on unchanged paths are not touched. Server settings that need a
  // restart (port, address, threads) are kept and reported in the result.
  // On the server's context, as the calls below (after attach()).
  std::vector<std::string> reload(const Config& config);

  // Closes every client connection and session (for a clean exit).
  void close_all_sessions();

  // Before a stop (on the server's context): the RTSP port stops listening,
  // requests that would open a new session get 503 with Retry-After, and
  // GET /api/v1/health answers 503 {"status":"draining"}; open sessions go
  // on. connection_count() tells when their viewers have gone.
  void drain();
  bool draining() const;
  // Open RTSP connections right now. A session outlives its connection
  // (until session-timeout), so a viewer that left is seen here at once.
  unsigned connection_count() const;

  // The bound RTSP port (after attach), and the URL of every path.
  uint16_t port() const;
  std::vector<std::string> urls() const;
  // The bound HTTP API port on 127.0.0.1 (after attach); 0 when it is off.
  uint16_t http_port() const;
  // The bound RTSPS port (after attach); 0 without a certificate.
  uint16_t tls_port() const;
  // The bound extra RTSP-over-HTTP port (after attach); 0 when not asked for.
  uint16_t http_tunnel_port() const;
  // Open sessions right now (for tests and reports).
  unsigned session_count() const;

  // --- Paths, sessions, recordings and events ---
  //
  // Context rule: every call below runs on the server's context (the
  // thread that runs the GMainContext given to attach(), e.g. in a
  // callback or a g_main_context_invoke() there), or before attach() on
  // the thread that built the server. None blocks on the network or the
  // disk. None throws: errors come back in the result.

  // Adds, changes or removes a path as a [path NAME] group of the
  // configuration file would, with the same checks (the whole
  // configuration's, and the launch line's dry run): an error names the
  // key at fault and why (PathResult, status 400), 409 when add_path's
  // name exists, 404 when change_path's or remove_path's does not.
  // Sessions on other paths are not touched; those of a changed or removed
  // path end. A later reload() keeps paths added or changed in code (and
  // keeps removed ones removed), as it keeps the HTTP API's changes.
  // Paths added or changed in code live in memory only (never written to
  // the configuration file); remove_path() and the *_json() calls below
  // do what the HTTP API does, which with api-writes-config=true changes
  // the file. change_path: `path.name` may be empty (it is `name`); a path
  // is not renamed (400).
  PathResult add_path(const PathConfig& path);
  PathResult change_path(const std::string& name, const PathConfig& path);
  PathResult remove_path(const std::string& name);
  // The same with the JSON body of POST /api/v1/paths ({"name": …, "launch":
  // …}) and PATCH /api/v1/paths/NAME (the keys given replace the path's,
  // null removes one), the configuration keys as members.
  PathResult add_path_json(const std::string& json);
  PathResult change_path_json(const std::string& name, const std::string& json);

  // Every configured path with its figures (a pattern with the paths
  // published or proxied under it), in configuration order.
  std::vector<PathInfo> paths() const;
  // One path (configured, or published or proxied under a pattern) with
  // its sessions in `readers`; nullopt when there is none.
  std::optional<PathInfo> path(const std::string& name) const;
  // Every RTSP session with fresh figures.
  std::vector<SessionInfo> sessions() const;
  // Ends a session as a TEARDOWN would and closes its client's
  // connection; false when there is no such session.
  bool kick_session(const std::string& id);
  // Records `path` from now on (start) or no more (stop), whatever the
  // configuration says, until the next call. 404: no such path; 409: not
  // recordable (no record-dir, a files root, a launch line per viewer, a
  // codec that cannot be recorded).
  RecordingResult start_recording(const std::string& path);
  RecordingResult stop_recording(const std::string& path);
  // Every path that records or did, without their segments (read those
  // with recorded_segments() off the server's context).
  std::vector<RecordingInfo> recordings() const;
  // Server-wide counters.
  ServerFigures figures() const;

  // The server's users (the users file), for a front end an application
  // adds (the HTTP API is one). Without users has_users() is false and
  // check_password(), digest_ha1() and user_may() refuse.
  enum class Role { kRead, kPublish, kAdmin };
  bool has_users() const;
  // The realm of Digest challenges.
  std::string users_realm() const;
  // Whether Basic is accepted on connections without TLS.
  bool basic_over_plain_allowed() const;
  // Basic: the password against the user's salted hash (a slow check).
  bool check_password(const std::string& user, const std::string& password) const;
  // Digest: MD5(user:realm:password) as the users file keeps it; empty for
  // an unknown user.
  std::string digest_ha1(const std::string& user) const;
  // Whether `user` has `role` on `path`, or on some path when `path` is
  // empty.
  bool user_may(const std::string& user, Role role, const std::string& path) const;
  // A failed login, counted with the server's auth failures.
  void count_auth_failure();

  // Events: `callback` is called on the server's context (never on a
  // streaming or client thread), after the fact, in the order things
  // happened per path. Events before attach() are not delivered. A
  // callback may call anything above, unsubscribe itself or others; once
  // unsubscribe() has returned its callback is not called again.
  EventToken subscribe(EventCallback callback);
  // Unknown or already removed tokens are ignored.
  void unsubscribe(EventToken token);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A media file a root path serves (for --check).
struct ServedFile {
  std::string path;     // URL path, "/vod/dir/file.mp4"
  std::string summary;  // what it holds, "H.264 + AAC, 5.0 s"
};

// Walks `path.root` and probes every file as a client asking for it would;
// `skipped` gets the files that would not be served, with the reason.
// Initializes GStreamer if the application has not.
std::vector<ServedFile> list_served_files(const PathConfig& path,
                                          std::vector<std::string>* skipped = nullptr);

// --add-user: adds or replaces `name` in the users file (made if missing;
// written atomically, mode 0600) with a fresh salt, the password's slow hash
// and its Digest HA1 for `realm`. --remove-user: false when `name` was not
// there. Both throw ConfigError (bad name, roles or file).
void add_user(const std::string& file, const std::string& name, const std::string& password,
              const std::string& roles, const std::string& realm);
bool remove_user(const std::string& file, const std::string& name);

// `text` with passwords, Authorization headers and digests replaced by ***.
std::string redact_secrets(const std::string& text);

// The program's own stderr lines in the server's log format: with
// log-format=json one JSON object per line, else "gst-mediaserver: TEXT"
// as always. `level` is ERROR, WARN or NOTICE. Safe from any thread and
// in signal-watch callbacks (not in a signal handler).
void set_log_format(const std::string& format);
void program_log(const char* level, const std::string& text);

// A line in the server's own log, printed as its other lines are (time
// stamp, level, log format; INFO only with -v, DEBUG only with -V; secrets
// redacted). `level` is ERROR, WARN, NOTICE, INFO or DEBUG (anything else
// counts as DEBUG). Safe from any thread.
void server_log(const char* level, const std::string& text);

// The library's version string.
const char* version();

// Proxy back-end sessions are stopped on threads of their own, so that a
// back end cannot hold up the server; after the last Server is destroyed,
// waits up to `timeout_ms` for those stops to end. Call it before
// gst_deinit(), and skip gst_deinit() when it returns false.
bool wait_for_backend_stops(unsigned timeout_ms);

// A closed TCP viewer's connection object is kept until the streams it
// watched have stopped sending to it (at most a moment after it left); after
// the last Server is destroyed, waits up to `timeout_ms` for those to be let
// go. Call it before gst_deinit(), and skip gst_deinit() when it returns
// false.
bool wait_for_closed_clients(unsigned timeout_ms);

}  // namespace gms
