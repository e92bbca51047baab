// gst-mediaserver configuration: a plain value, read from a GLib key file
// and the command line, validated as a whole.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace gms {

// One problem found in a configuration, with where it was found.
struct ConfigIssue {
  std::string origin;  // file name, or "command line"
  int line = 0;        // 1-based; 0 when unknown
  std::string group;   // "server", "path /test", or empty
  std::string key;     // empty when the issue is about a whole group
  std::string reason;

  // "site.conf:12: [path /test] launch: no payloader named pay0"
  std::string to_string() const;
};

// Thrown by Config and Server for anything that must stop the start.
class ConfigError : public std::runtime_error {
 public:
  explicit ConfigError(std::vector<ConfigIssue> issues);
  const std::vector<ConfigIssue>& issues() const noexcept { return issues_; }

 private:
  std::vector<ConfigIssue> issues_;
};

// RTSP lower transports a path offers (gst-rtsp-server's GstRTSPLowerTrans).
enum ProtocolFlags : unsigned {
  kProtoUdp = 1u << 0,
  kProtoUdpMcast = 1u << 1,
  kProtoTcp = 1u << 2,
};

struct MulticastRange {
  std::string min_address = "224.3.0.0";
  std::string max_address = "224.3.0.255";
  uint16_t min_port = 5000;
  uint16_t max_port = 5999;
  uint8_t ttl = 16;
  bool operator==(const MulticastRange&) const = default;
};

// A path has exactly one source: a launch line, or a directory of media
// files served by their relative path (root).
struct PathConfig {
  std::string name;      // "/test"; "/" for the top-level root ([server] root, --root)
  std::string launch;    // gst-launch line, without the surrounding parentheses
  bool shared = true;    // one pipeline for all viewers (files: false unless set)
  std::optional<unsigned> latency_ms;  // rtpbin jitterbuffer latency
  unsigned protocols = kProtoUdp | kProtoUdpMcast | kProtoTcp;
  MulticastRange multicast;

  std::string origin;  // where it was defined
  int line = 0;

  // Publishing (RTSP ANNOUNCE/RECORD). A publish path has no launch line; its
  // name may end in '*' ("/live/*": every path below /live/), as may a proxy
  // path's, whose URL then names each path with "$path" (without its '/').
  bool publish = false;
  bool override_publisher = false;  // a new publisher replaces the current one
  bool keep_viewers = false;        // viewers stay while no publisher is there
  unsigned wait_publisher = 0;      // s a PLAY waits for a publisher (0: 404 at once)
  unsigned publisher_timeout = 5;   // s without publisher (or data) before viewers get EOS
  bool gop_cache = true;            // new viewers start at the cached key frame
  unsigned max_viewers = 0;         // 0: no limit

  // Proxy: one back-end RTSP session relayed to every viewer of the path.
  std::string proxy;                       // back-end URL; empty: not a proxy path
  std::string backend_transport = "auto";  // auto, udp, tcp, http
  uint16_t backend_http_port = 0;          // the back end's RTSP-over-HTTP port (http)
  std::string backend_user, backend_password;
  bool on_demand = false;   // connect at the first viewer; else at start, like live555
  unsigned linger = 10;     // s an on-demand source (back end, launch line) stays after its last viewer
  unsigned timeout = 5;     // s without a packet before reconnecting
  unsigned backoff_max = 256;  // s, the cap of the reconnect back-off
  unsigned keepalive = 20;     // s between GET_PARAMETER keep-alives; 0: none
  // rtsps:// back ends: the CA file their certificate must chain to (empty:
  // the system's), or no check at all (self-signed cameras).
  std::string backend_tls_ca;
  bool backend_tls_verify = true;

  // Viewers and publishers reach this path over RTSPS only; plain RTSP gets 403.
  bool require_tls = false;
  // The path's medias speak SRTP (RTP/SAVP, keys in MIKEY): every viewer and
  // publisher of it must ask for RTP/SAVP.
  bool srtp = false;

  // Shared launch lines: started at the first viewer, stopped `linger` s
  // after the last, unless always on (or recorded).
  bool always_on = false;
  unsigned start_timeout = 10;  // s a starting launch line has to deliver; else 503

  // Recording (launch, proxy and publish paths): segments under [server] record-dir.
  std::optional<bool> record;         // unset: record when record-dir is set
  std::string record_format = "mp4";  // mp4 (fragmented), mkv, mpegts
  unsigned segment_duration = 60;     // s, cut at the next key frame
  unsigned delete_after = 0;          // s; 0: keep
  uint64_t max_bytes = 0;             // per path; 0: no cap

  // Roles everyone has here without a user: "read", "publish", "read,publish"
  // or "none"; empty: none once users exist (everything without users).
  std::string anonymous;

  bool is_proxy() const { return !proxy.empty(); }
  bool is_pattern() const { return !name.empty() && name.back() == '*'; }
  // "/live/" for "/live/*"; the name itself otherwise.
  std::string prefix() const { return is_pattern() ? name.substr(0, name.size() - 1) : name; }
  // Files: an absolute directory (a relative one in a file is read relative
  // to that file's directory, on the command line to the working directory).
  std::string root;
  // Files: play each file in a loop as a live channel, shared by its viewers.
  bool loop = false;

  bool is_root() const { return !root.empty(); }

  // Same serving behaviour (the origin does not count): reload keeps sessions.
  bool same_source(const PathConfig& o) const {
    return name == o.name && launch == o.launch && shared == o.shared &&
           latency_ms == o.latency_ms && protocols == o.protocols && multicast == o.multicast &&
           publish == o.publish && override_publisher == o.override_publisher &&
           keep_viewers == o.keep_viewers && wait_publisher == o.wait_publisher &&
           publisher_timeout == o.publisher_timeout && gop_cache == o.gop_cache &&
           max_viewers == o.max_viewers && proxy == o.proxy &&
           backend_transport == o.backend_transport && backend_http_port == o.backend_http_port &&
           backend_user == o.backend_user && backend_password == o.backend_password &&
           on_demand == o.on_demand && linger == o.linger && timeout == o.timeout &&
           backoff_max == o.backoff_max && keepalive == o.keepalive && always_on == o.always_on &&
           start_timeout == o.start_timeout && record == o.record &&
           record_format == o.record_format && segment_duration == o.segment_duration &&
           delete_after == o.delete_after && max_bytes == o.max_bytes &&
           root == o.root && loop == o.loop && backend_tls_ca == o.backend_tls_ca &&
           backend_tls_verify == o.backend_tls_verify && require_tls == o.require_tls &&
           srtp == o.srtp;
  }
};

struct ServerConfig {
  std::string address = "0.0.0.0";
  uint16_t port = 8554;
  // HTTP API and metrics; 0: off. Off loopback only with users.
  uint16_t http_port = 8080;
  std::string http_address = "127.0.0.1";
  // Users (users file, reloaded on SIGHUP); without them nothing asks for one.
  std::string users_file;
  std::string realm = "gst-mediaserver";
  bool allow_basic_plaintext = false;  // Basic also without TLS
  unsigned nonce_lifetime = 300;       // s a Digest nonce stays good
  std::string viewer_user, viewer_password;  // -C: one user with read on every path
  unsigned threads = 0;          // RTSP client threads; 0: four per core, at least 16
  unsigned backlog = 512;        // listen queue
  unsigned max_request_size = 65536;  // RTSP body cap, bytes
  unsigned session_timeout = 60;      // seconds without keep-alive
  unsigned max_sessions = 2000;
  unsigned max_connections = 4000;    // open RTSP connections; more get 503
  unsigned max_connections_per_address = 0;  // 0: no cap
  unsigned request_timeout = 10;      // seconds to send a new connection's first request
  unsigned max_publishers = 0;   // publishers at once, all paths; 0: no limit
  unsigned max_viewers = 0;      // viewers at once, all paths; 0: no limit
  // Viewers' pipelines prepared at once (a DESCRIBE of an unshared path
  // makes one each; a shared path's viewers share one); more get 503.
  // 0: no cap. Publishers' are bounded by max_publishers instead.
  unsigned max_pipelines = 64;
  std::string record_dir;        // record launch, published and proxied paths here ("": off)
  bool accept_register = false;  // -R: back ends may ask to be proxied (REGISTER)
  std::string register_user, register_password;  // -U: REGISTER needs these (Digest)
  int verbosity = 0;             // 0 quiet, 1 -v, 2 -V
  std::string log_format = "text";  // text, or json: one object per line
  // Paths added, changed or removed over the HTTP API are written back to
  // the configuration file (false: kept in memory until the next restart).
  bool api_writes_config = false;
  std::string config_file;       // the file read, if any (for api-writes-config)
  // Media files served at the top level (rtsp://host/dir/file.mp4); launch
  // paths keep their names. Becomes the path "/" of Config::paths.
  std::string root;
  bool loop = false;
  // RTSPS: certificate and key files (PEM; the key may be in the certificate
  // file), on tls_port beside the plain port. Empty: no RTSPS. The HTTP API
  // then speaks HTTPS with the same certificate.
  std::string tls_cert, tls_key;
  uint16_t tls_port = 8322;
  // Another port for RTSP over HTTP (the RTSP port tunnels too); 0: none.
  uint16_t http_tunnel_port = 0;
  // SIGTERM: stop taking new sessions, fail the health check, and wait up
  // to this many seconds for the open sessions to end (0: stop at once).
  unsigned drain_timeout = 0;
  // Also answer GET /api/v1/health (and nothing else) on this address, at
  // http-port, for a load balancer's checks; empty: loopback only.
  std::string health_address;

  unsigned effective_threads() const;
};

// Command-line settings; each set field overrides the file.
struct CliOptions {
  std::optional<std::string> config_file;
  std::optional<uint16_t> port;
  std::optional<std::string> address;
  std::optional<uint16_t> http_port;
  std::optional<std::string> tls_cert, tls_key;  // --tls-cert, --tls-key (made absolute)
  std::optional<uint16_t> tls_port, http_tunnel_port;
  std::vector<std::pair<std::string, std::string>> mounts;  // PATH=LAUNCH
  // --proxy URL or bare rtsp:// URLs: /proxyStream for one, /proxyStream-1 …
  // /proxyStream-N for several (live555ProxyServer's names).
  std::vector<std::string> proxies;
  std::optional<std::string> proxy_prefix;  // -e NAME: NAME, NAME-1 … instead of proxyStream
  std::optional<unsigned> backend_timeout;  // -D SECONDS: the back end's inter-packet gap
  std::optional<std::string> backend_transport;  // -t: tcp, -T PORT: http
  std::optional<uint16_t> backend_http_port;
  std::optional<std::pair<std::string, std::string>> backend_credentials;  // -u USER PASS
  bool accept_register = false;                                          // -R
  std::optional<std::string> record_dir;                                 // --record-dir DIR
  std::optional<std::pair<std::string, std::string>> register_credentials;  // -U USER PASS
  std::optional<std::pair<std::string, std::string>> viewer_credentials;    // -C USER PASS
  std::optional<std::string> users_file;   // --users FILE
  std::optional<std::string> add_user;     // --add-user NAME (with --roles)
  std::optional<std::string> remove_user;  // --remove-user NAME
  std::optional<std::string> roles;        // --roles 'read:/*,publish:/live/*'

  std::vector<std::string> publish;                          // --publish PATTERN
  std::optional<std::string> root;  // --root DIR (made absolute)
  bool loop = false;                // --loop
  int verbosity = 0;
  std::optional<std::string> log_format;  // --log-format text|json
  bool check = false;
  bool help = false;
  bool version = false;

  // Throws ConfigError (origin "command line") on a bad or unsupported option.
  static CliOptions parse(int argc, const char* const* argv);
  static std::string usage();
};

class Config {
 public:
  ServerConfig server;
  std::vector<PathConfig> paths;

  // Reads a key file; collects every problem before throwing one ConfigError.
  static Config from_file(const std::string& file);
  static Config from_data(const std::string& text, const std::string& origin);
  // File (if any) + command line, validated, launch lines dry-run parsed.
  // Problems that do not stop the start (an element that is not installed:
  // that path answers 503) go to `warnings`.
  static Config load(const CliOptions& cli, std::vector<ConfigIssue>* warnings = nullptr);

  // Command-line values win over the file's.
  void apply(const CliOptions& cli);
  // Whole-configuration checks (needs every path); throws ConfigError.
  void validate() const;
  // Parses every launch line without starting it; throws ConfigError for a
  // line that does not parse or has no payloader, returns the warnings.
  std::vector<ConfigIssue> check_launch_lines() const;

  const PathConfig* find_path(const std::string& name) const;
};

// A path's name as the configuration takes it: "/name[/name…]" of safe
// characters; with `allow_pattern` a trailing '*' too ("/live/*"). False,
// with the reason, otherwise.
bool check_path_name(const std::string& v, std::string& reason, bool allow_pattern = false);

}  // namespace gms
