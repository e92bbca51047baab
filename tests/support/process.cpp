#include "process.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gms::test {

std::string build_path(const std::string& rel) {
  const char* dir = g_getenv("GMS_BUILD_DIR");
  return std::string(dir ? dir : "build") + "/" + rel;
}

std::string write_temp_file(const std::string& name, const std::string& text) {
  GErrorPtr err;
  GCharPtr dir(g_dir_make_tmp("gms-test-XXXXXX", out(err)));
  if (!dir)
    throw std::runtime_error("cannot make a temporary directory");
  std::string path = std::string(dir.get()) + "/" + name;
  if (!g_file_set_contents(path.c_str(), text.data(), static_cast<gssize>(text.size()), nullptr))
    throw std::runtime_error("cannot write " + path);
  return path;
}

RunResult run(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  std::vector<const gchar*> args;
  for (const auto& a : argv)
    args.push_back(a.c_str());
  args.push_back(nullptr);
  RunResult r;
  GErrorPtr err;
  auto proc = Ref<GSubprocess>::adopt(g_subprocess_newv(
      args.data(), GSubprocessFlags(G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE),
      out(err)));
  if (!proc) {
    r.err = err ? err->message : "spawn failed";
    return r;
  }
  std::atomic<bool> done{false};
  gchar *o = nullptr, *e = nullptr;
  std::thread reader([&] {
    g_subprocess_communicate_utf8(proc.get(), nullptr, nullptr, &o, &e, nullptr);
    done = true;
  });
  auto end = deadline_in(timeout);
  while (!done && std::chrono::steady_clock::now() < end)
    g_usleep(5000);
  bool killed = !done;
  if (killed)
    g_subprocess_force_exit(proc.get());
  reader.join();
  r.out = o ? o : "";
  r.err = e ? e : "";
  g_free(o);
  g_free(e);
  if (!killed && g_subprocess_get_if_exited(proc.get()))
    r.exit_status = g_subprocess_get_exit_status(proc.get());
  return r;
}

RunResult run_add_user(const std::string& file, const std::string& name, const std::string& pw,
                       const std::string& roles) {
  return run({"sh", "-c",
              "printf '%s\\n' \"$0\" | \"$1\" --users \"$2\" --add-user \"$3\" --roles \"$4\"", pw,
              build_path("src/gst-mediaserver"), file, name, roles},
             std::chrono::seconds(20));
}

bool wait_until(const std::function<bool()>& cond, std::chrono::milliseconds timeout) {
  auto end = deadline_in(timeout);
  for (;;) {
    while (g_main_context_iteration(nullptr, FALSE)) {
    }
    if (cond())
      return true;
    if (std::chrono::steady_clock::now() >= end)
      return false;
    g_usleep(10000);
  }
}

size_t count_occurrences(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t p = text.find(needle); p != std::string::npos; p = text.find(needle, p + 1))
    ++n;
  return n;
}

int listening_socket(uint16_t& port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 4) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("no listening socket");
  }
  port = ntohs(a.sin_port);
  return fd;
}

uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("no free port");
  }
  close(fd);
  return ntohs(a.sin_port);
}

ServerProcess::ServerProcess(std::vector<std::string> args, bool wait_ready, uint16_t port,
                             const std::vector<std::string>& prefix, bool http_api) {
  port_ = port ? port : free_port();
  if (http_api)
    do
      http_port_ = free_port();
    while (http_port_ == port_);
  log_file_ = write_temp_file("server.log", "");
  std::vector<std::string> argv = prefix;
  argv.insert(argv.end(), {build_path("src/gst-mediaserver"), "-a", "127.0.0.1", "-p",
                           std::to_string(port_), "--http-port", std::to_string(http_port_)});
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const gchar*> cargs;
  for (const auto& a : argv)
    cargs.push_back(a.c_str());
  cargs.push_back(nullptr);
  auto launcher = Ref<GSubprocessLauncher>::adopt(
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDOUT_PIPE));
  g_subprocess_launcher_set_stderr_file_path(launcher.get(), log_file_.c_str());
  GErrorPtr err;
  proc_ = Ref<GSubprocess>::adopt(
      g_subprocess_launcher_spawnv(launcher.get(), cargs.data(), out(err)));
  if (!proc_)
    throw std::runtime_error(std::string("cannot start the server: ") + err->message);
  if (wait_ready)
    pump_stdout(15s);
}

ServerProcess::~ServerProcess() {
  if (proc_ && !exited_)
    stop(5s);
}

void ServerProcess::pump_stdout(std::chrono::milliseconds timeout) {
  GInputStream* in = g_subprocess_get_stdout_pipe(proc_.get());
  auto end = deadline_in(timeout);
  char buf[4096];
  while (!ready_ && std::chrono::steady_clock::now() < end) {
    GErrorPtr err;
    gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(in), buf,
                                                        sizeof buf, nullptr, out(err));
    if (n > 0) {
      stdout_.append(buf, static_cast<size_t>(n));
      ready_ = stdout_.find("\nready\n") != std::string::npos;
      continue;
    }
    if (n == 0)  // EOF: the server exited
      return;
    g_usleep(5000);
  }
}

std::string ServerProcess::url(const std::string& path) const {
  return "rtsp://127.0.0.1:" + std::to_string(port_) + path;
}

std::string ServerProcess::http_url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(http_port_) + path;
}

void ServerProcess::signal(int sig) {
  if (!exited_)
    g_subprocess_send_signal(proc_.get(), sig);
}

int ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exited_)
    return status_;
  auto end = deadline_in(timeout);
  // Reading stdout to EOF keeps the child from blocking on a full pipe.
  GInputStream* in = g_subprocess_get_stdout_pipe(proc_.get());
  char buf[4096];
  while (std::chrono::steady_clock::now() < end) {
    gssize n = g_pollable_input_stream_read_nonblocking(G_POLLABLE_INPUT_STREAM(in), buf,
                                                        sizeof buf, nullptr, nullptr);
    if (n > 0)
      stdout_.append(buf, static_cast<size_t>(n));
    if (n == 0) {
      g_subprocess_wait(proc_.get(), nullptr, nullptr);
      exited_ = true;
      status_ = g_subprocess_get_if_exited(proc_.get()) ? g_subprocess_get_exit_status(proc_.get())
                                                        : -1;
      if (g_subprocess_get_if_signaled(proc_.get()))  // (a crash: say which)
        std::fprintf(stderr, "the server ended on signal %d\n",
                     g_subprocess_get_term_sig(proc_.get()));
      return status_;
    }
    g_usleep(5000);
  }
  g_subprocess_force_exit(proc_.get());
  g_subprocess_wait(proc_.get(), nullptr, nullptr);
  exited_ = true;
  status_ = -1;
  return status_;
}

int ServerProcess::stop(std::chrono::milliseconds timeout) {
  signal(SIGTERM);
  return wait_exit(timeout);
}

std::string ServerProcess::log() const {
  std::ifstream f(log_file_);
  std::stringstream ss;
  ss << f.rdbuf();
  // The banner first: the tail of the log is what failure messages show.
  return stdout_ + ss.str();
}

std::string ServerProcess::log_tail(size_t lines) const {
  std::string all = log();
  size_t pos = all.size();
  for (size_t n = 0; n <= lines && pos > 0; ++n)
    pos = all.rfind('\n', pos - 1);
  return pos == std::string::npos || pos == 0 ? all : all.substr(pos + 1);
}

bool ServerProcess::alive() const {
  // GLib reaps the child in its worker thread; the identifier is gone then.
  return !exited_ && g_subprocess_get_identifier(proc_.get()) != nullptr;
}

GPid ServerProcess::pid() const {
  const char* id = proc_ ? g_subprocess_get_identifier(proc_.get()) : nullptr;
  return id ? GPid(std::atoi(id)) : 0;
}

double process_cpu_seconds(GPid pid) {
  GCharPtr text;
  std::string path = "/proc/" + std::to_string(pid) + "/stat";
  if (!g_file_get_contents(path.c_str(), out(text), nullptr, nullptr))
    return 0;
  // Fields after the command name "(…)": state is field 3, utime 14, stime 15.
  const char* p = strrchr(text.get(), ')');
  if (!p)
    return 0;
  GStrvPtr f(g_strsplit(p + 2, " ", 16));
  if (g_strv_length(f.get()) < 14)
    return 0;
  const double ticks = double(g_ascii_strtoull(f.get()[11], nullptr, 10) +
                              g_ascii_strtoull(f.get()[12], nullptr, 10));
  return ticks / double(sysconf(_SC_CLK_TCK));
}

}  // namespace gms::test
