#include "child.h"

#include <signal.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "process.h"

namespace gms::test {

Child::Child(const std::vector<std::string>& argv) {
  log_file_ = write_temp_file("child.log", "");
  std::vector<const gchar*> cargs;
  for (const auto& a : argv)
    cargs.push_back(a.c_str());
  cargs.push_back(nullptr);
  auto launcher = Ref<GSubprocessLauncher>::adopt(
      g_subprocess_launcher_new(GSubprocessFlags(G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                                 G_SUBPROCESS_FLAGS_STDERR_MERGE)));
  g_subprocess_launcher_set_stdout_file_path(launcher.get(), log_file_.c_str());
  proc_ = Ref<GSubprocess>::adopt(g_subprocess_launcher_spawnv(launcher.get(), cargs.data(), nullptr));
}

Child::~Child() {
  if (proc_ && running()) {
    g_subprocess_force_exit(proc_.get());
    g_subprocess_wait(proc_.get(), nullptr, nullptr);
  }
}

bool Child::running() {
  // GLib reaps the child on its worker thread; the identifier is gone then.
  return proc_ && g_subprocess_get_identifier(proc_.get()) != nullptr;
}

void Child::signal(int sig) {
  if (proc_)
    g_subprocess_send_signal(proc_.get(), sig);
}

int Child::wait(unsigned timeout_ms) {
  if (!proc_)
    return -1;
  auto end = deadline_in(std::chrono::milliseconds(timeout_ms));
  while (g_subprocess_get_identifier(proc_.get()) && std::chrono::steady_clock::now() < end) {
    g_main_context_iteration(nullptr, FALSE);
    g_usleep(10000);
  }
  if (g_subprocess_get_identifier(proc_.get())) {
    g_subprocess_force_exit(proc_.get());
    g_subprocess_wait(proc_.get(), nullptr, nullptr);
    return -1;
  }
  g_subprocess_wait(proc_.get(), nullptr, nullptr);
  return g_subprocess_get_if_exited(proc_.get()) ? g_subprocess_get_exit_status(proc_.get()) : -1;
}

std::string Child::output() const {
  std::ifstream f(log_file_);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<std::string> ffmpeg_publisher(const std::string& url, const std::string& transport,
                                          int seconds, bool audio, const std::string& size,
                                          bool realtime) {
  std::vector<std::string> a = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin"};
  if (realtime)
    a.push_back("-re");
  a.insert(a.end(), {"-f", "lavfi", "-i",
                     "testsrc=size=" + size + ":rate=30:duration=" + std::to_string(seconds)});
  if (audio)
    a.insert(a.end(), {"-f", "lavfi", "-i",
                       "sine=frequency=440:sample_rate=48000:duration=" + std::to_string(seconds)});
  a.insert(a.end(), {"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "30",
                     "-pix_fmt", "yuv420p"});
  if (audio)
    a.insert(a.end(), {"-c:a", "libopus", "-b:a", "32k"});
  a.insert(a.end(), {"-f", "rtsp", "-rtsp_transport", transport, url});
  return a;
}

std::string make_bench_clip(std::string& why) {
  std::string clip = write_temp_file("clip.mp4", "");
  RunResult enc = run({"ffmpeg", "-y", "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                       "testsrc2=size=1280x720:rate=30:duration=20", "-c:v", "libx264", "-preset",
                       "veryfast", "-tune", "zerolatency", "-b:v", "3M", "-maxrate", "3M", "-bufsize",
                       "1M", "-g", "60", "-pix_fmt", "yuv420p", clip},
                      std::chrono::seconds(300));
  if (enc.exit_status != 0) {
    why = enc.err;
    return "";
  }
  return clip;
}

}  // namespace gms::test
