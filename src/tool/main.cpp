// gst-mediaserver: parse the arguments, run the server until a signal.
#include <gst-mediaserver/server.h>

#include <glib-unix.h>
#include <gst/gst.h>

#include <malloc.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <string>

#include "drain.h"
#include "exit_deadline.h"
#include "memory_trim.h"
#include "rtsp_threads.h"
#include "stop_signals.h"

namespace {

constexpr int kExitConfig = 2;
// How long an orderly stop waits for back-end sessions still closing.
constexpr unsigned kBackendStopWaitMs = 2000;
// How long it then waits for the RTSP client and media threads to end
// (within StopSignals' deadline, which ends the process if this is exceeded).
constexpr unsigned kRtspThreadsWaitMs = 1500;
// A closed TCP viewer is let go half a second after its streams stopped
// sending to it; the medias are stopped by then.
constexpr unsigned kClosedClientsWaitMs = 2000;
// How often malloc's free memory is handed back (memory_trim.h).
constexpr guint kMemoryTrimSeconds = 60;

struct App {
  gms::CliOptions cli;
  std::unique_ptr<gms::Server> server;
  GMainLoop* loop = nullptr;
  int exit_code = 0;
};

void print_issues(const gms::ConfigError& e) {
  for (const auto& i : e.issues())
    gms::program_log("ERROR", i.to_string());
}

gboolean on_reload(gpointer data) noexcept {
  auto* app = static_cast<App*>(data);
  try {
    std::vector<gms::ConfigIssue> warnings;
    gms::Config cfg = gms::Config::load(app->cli, &warnings);
    for (const auto& w : warnings)
      gms::program_log("WARN", "warning: " + w.to_string());
    for (const auto& note : app->server->reload(cfg))
      gms::program_log("NOTICE", "reload: " + note);
    gms::program_log("NOTICE", "configuration reloaded");
  } catch (const gms::ConfigError& e) {
    gms::program_log("ERROR", "reload refused, the running configuration is kept:");
    print_issues(e);
  }
  return G_SOURCE_CONTINUE;
}

// What a path serves, in a few words, for the start-up listing.
std::string describe(const gms::PathConfig& p, bool record_dir) {
  if (p.publish)
    return "publish: RECORD here, PLAY to watch";
  if (p.is_proxy()) {
    // The back end's password never goes to the terminal.
    std::string url = p.proxy;
    auto at = url.find('@'), scheme = url.find("://");
    if (at != std::string::npos && scheme != std::string::npos && at > scheme)
      url.replace(scheme + 3, at - scheme - 3, "***");
    return "proxy of " + url + (p.on_demand ? ", on demand" : "");
  }
  if (p.is_root())
    return "files under " + p.root +
           (p.loop ? ", looped as live channels"
                   : p.shared ? ", shared" : ", one pipeline per viewer");
  if (p.record.value_or(record_dir))  // relayed: one pipeline, running without viewers
    return "launch, always on, recorded";
  return p.shared ? "launch, shared" : "launch, one pipeline per viewer";
}

void print_paths(const gms::Config& cfg, const std::vector<std::string>& urls) {
  for (size_t i = 0; i < cfg.paths.size(); ++i)
    printf("  %s  (%s)\n", urls.empty() ? cfg.paths[i].name.c_str() : urls[i].c_str(),
           describe(cfg.paths[i], !cfg.server.record_dir.empty()).c_str());
  if (cfg.server.accept_register)
    printf("  REGISTER accepted: back ends may ask to be proxied\n");
}

// --check: every servable file of every root path, with its URL.
void print_files(const gms::Config& cfg) {
  std::string host = cfg.server.address;
  if (host == "0.0.0.0" || host == "::")
    host = "127.0.0.1";
  else if (host.find(':') != std::string::npos)
    host = "[" + host + "]";
  std::string base = "rtsp://" + host + ":" + std::to_string(cfg.server.port);
  for (const auto& p : cfg.paths) {
    if (!p.is_root())
      continue;
    std::vector<std::string> skipped;
    auto files = gms::list_served_files(p, &skipped);
    printf("files under %s (%zu servable, %zu not):\n", p.root.c_str(), files.size(),
           skipped.size());
    for (const auto& f : files)
      printf("  %s%s  (%s)\n", base.c_str(), f.path.c_str(), f.summary.c_str());
    for (const auto& s : skipped)
      printf("  not served: %s\n", s.c_str());
  }
}

// The password for --add-user: asked on the terminal without echo, or one
// line from stdin when it is not a terminal (scripts).
std::string read_password() {
  const bool tty = isatty(STDIN_FILENO);
  termios saved{};
  if (tty) {
    fprintf(stderr, "Password: ");
    fflush(stderr);
    tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= ~tcflag_t(ECHO);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  for (int c; (c = fgetc(stdin)) != EOF && c != '\n';)
    line += char(c);
  if (tty) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    fprintf(stderr, "\n");
  }
  if (!line.empty() && line.back() == '\r')
    line.pop_back();
  return line;
}

const char* api_note(const gms::Config& cfg) {
  return cfg.server.users_file.empty() && cfg.server.viewer_user.empty()
             ? " (loopback only until users are configured)"
             : " (users needed)";
}

// --add-user / --remove-user: edit the users file and exit.
int edit_users(const gms::CliOptions& cli) {
  const std::string& file = *cli.users_file;
  if (cli.remove_user) {
    if (!gms::remove_user(file, *cli.remove_user)) {
      fprintf(stderr, "gst-mediaserver: no user %s in %s\n", cli.remove_user->c_str(),
              file.c_str());
      return 1;
    }
    printf("removed %s from %s\n", cli.remove_user->c_str(), file.c_str());
    return 0;
  }
  std::string realm = gms::ServerConfig().realm;
  if (cli.config_file)
    realm = gms::Config::from_file(*cli.config_file).server.realm;
  gms::add_user(file, *cli.add_user, read_password(), *cli.roles, realm);
  printf("%s in %s (roles %s; a running server reads it on SIGHUP)\n", cli.add_user->c_str(),
         file.c_str(), cli.roles->c_str());
  return 0;
}

int run(App& app) {
  if (app.cli.add_user || app.cli.remove_user)
    return edit_users(app.cli);
  std::vector<gms::ConfigIssue> warnings;
  gms::Config cfg = gms::Config::load(app.cli, &warnings);
  gms::set_log_format(cfg.server.log_format);
  for (const auto& w : warnings)
    gms::program_log("WARN", "warning: " + w.to_string());
  if (app.cli.check) {
    printf("configuration OK: RTSP on %s:%u, %zu path(s)\n", cfg.server.address.c_str(),
           cfg.server.port, cfg.paths.size());
    if (!cfg.server.tls_cert.empty())
      printf("RTSPS on %s:%u with %s\n", cfg.server.address.c_str(), cfg.server.tls_port,
             cfg.server.tls_cert.c_str());
    if (cfg.server.http_tunnel_port != 0)
      printf("RTSP over HTTP also on %s:%u\n", cfg.server.address.c_str(),
             cfg.server.http_tunnel_port);
    if (cfg.server.http_port != 0)
      printf("HTTP API on %s://%s:%u%s\n", cfg.server.tls_cert.empty() ? "http" : "https",
             cfg.server.http_address.c_str(), cfg.server.http_port, api_note(cfg));
    else
      printf("HTTP API off (http-port=0)\n");
    print_paths(cfg, {});
    print_files(cfg);
    return 0;
  }
  app.server = std::make_unique<gms::Server>(cfg);
  app.server->attach();
  printf("gst-mediaserver %s: RTSP on %s port %u\n", gms::version(), cfg.server.address.c_str(),
         app.server->port());
  if (app.server->tls_port() != 0)
    printf("RTSPS on %s port %u\n", cfg.server.address.c_str(), app.server->tls_port());
  if (app.server->http_tunnel_port() != 0)
    printf("RTSP over HTTP also on %s port %u\n", cfg.server.address.c_str(),
           app.server->http_tunnel_port());
  print_paths(cfg, app.server->urls());
  if (app.server->http_port() != 0)
    printf("HTTP API on %s://%s:%u%s\n", cfg.server.tls_cert.empty() ? "http" : "https",
           cfg.server.http_address.c_str(), app.server->http_port(), api_note(cfg));
  if (app.server->http_port() != 0 && !cfg.server.health_address.empty())
    printf("health check on %s://%s:%u/api/v1/health\n", cfg.server.tls_cert.empty() ? "http" : "https",
           cfg.server.health_address.c_str(), app.server->http_port());
  printf("ready\n");
  fflush(stdout);

  app.loop = g_main_loop_new(nullptr, FALSE);
  {
    gms::tool::Drain drain(*app.server, app.loop);
    unsigned drain_seconds = cfg.server.drain_timeout;
    // Watches until the end of the orderly stop.
    gms::tool::StopSignals stop(app.loop, drain_seconds,
                                [&drain, drain_seconds] { drain.start(drain_seconds); });
    guint sighup = g_unix_signal_add(SIGHUP, on_reload, &app);
    gms::tool::MemoryTrim trim(kMemoryTrimSeconds);
    g_main_loop_run(app.loop);
    g_source_remove(sighup);
    app.server->close_all_sessions();
    app.server.reset();
    if (!gms::wait_for_backend_stops(kBackendStopWaitMs)) {
      // Their pipelines still run: GStreamer must not be deinitialised under them.
      gms::program_log("ERROR", "a back-end session did not stop; exiting without cleanup");
      fflush(stdout);
      _exit(1);
    }
    if (!gms::tool::wait_for_rtsp_threads(kRtspThreadsWaitMs)) {
      gms::program_log("ERROR", "RTSP client threads did not end; exiting without cleanup");
      fflush(stdout);
      _exit(1);
    }
    if (!gms::wait_for_closed_clients(kClosedClientsWaitMs)) {
      gms::program_log("ERROR", "closed TCP viewers are still sent to; exiting without cleanup");
      fflush(stdout);
      _exit(1);
    }
  }
  g_main_loop_unref(app.loop);
  return 0;
}

}  // namespace

// GLib before 2.76 hands GStreamer's small objects out of its slice
// allocator, which keeps magazines of freed blocks for every thread. A file
// viewer has five threads of its own: the magazines held about a fifth of
// what a viewer costs (100 file viewers: 659 -> 522 KiB each with
// G_SLICE=always-malloc, and 5 % less CPU per packet). GLib reads G_SLICE
// once, before main() (the libraries' constructors allocate), so the
// program starts itself again with it set. An explicit G_SLICE is kept.
void use_malloc_for_slices(char** argv) {
  if (g_getenv("G_SLICE") || !glib_check_version(2, 76, 0))
    return;
  g_setenv("G_SLICE", "always-malloc", TRUE);
  execv("/proc/self/exe", argv);
  // No /proc: run on as we are.
}

// glibc gives a process up to eight malloc arenas per core, and hundreds of
// viewer threads spread over all of them, each arena with its own free
// blocks: two per core held 4 % less per file viewer (100 viewers: 520 ->
// 499 KiB) at the same CPU per packet.
void limit_malloc_arenas() {
  long cores = sysconf(_SC_NPROCESSORS_ONLN);
  mallopt(M_ARENA_MAX, int(2 * (cores > 0 ? cores : 1)));
}

// Each viewer costs descriptors (its connection, UDP ports, a file's two),
// and service managers commonly start a process with a soft limit of 1024
// under a far higher hard one: the server takes the hard limit, as a
// program that expects thousands of clients should.
void raise_descriptor_limit() {
  struct rlimit lim;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
}

int main(int argc, char** argv) {
  use_malloc_for_slices(argv);
  raise_descriptor_limit();
  if (!g_getenv("MALLOC_ARENA_MAX"))
    limit_malloc_arenas();
  // GStreamer takes its own --gst-* options out of argv first.
  gst_init(&argc, &argv);
  App app;
  try {
    app.cli = gms::CliOptions::parse(argc, argv);
  } catch (const gms::ConfigError& e) {
    print_issues(e);
    fprintf(stderr, "Try 'gst-mediaserver --help'.\n");
    return kExitConfig;
  }
  if (app.cli.log_format)
    gms::set_log_format(*app.cli.log_format);
  if (app.cli.help) {
    fputs(gms::CliOptions::usage().c_str(), stdout);
    return 0;
  }
  if (app.cli.version) {
    gchar* gst = gst_version_string();
    printf("gst-mediaserver %s (%s)\n", gms::version(), gst);
    g_free(gst);
    return 0;
  }
  try {
    app.exit_code = run(app);
  } catch (const gms::ConfigError& e) {
    print_issues(e);
    app.exit_code = kExitConfig;
  }
  gms::tool::exit_within(std::chrono::seconds(5), app.exit_code);
  gst_deinit();
  return app.exit_code;
}
