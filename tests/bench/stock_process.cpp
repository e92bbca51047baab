#include "stock_process.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "process.h"

namespace gms::test {

StockServer::StockServer(const std::vector<std::string>& args) {
  port_ = free_port();
  log_file_ = write_temp_file("stock.log", "");
  std::vector<std::string> argv = {build_path("tests/stock_server"), std::to_string(port_)};
  argv.insert(argv.end(), args.begin(), args.end());
  std::vector<const gchar*> cargs;
  for (const auto& a : argv)
    cargs.push_back(a.c_str());
  cargs.push_back(nullptr);
  auto launcher = Ref<GSubprocessLauncher>::adopt(
      g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE));
  g_subprocess_launcher_set_stdout_file_path(launcher.get(), log_file_.c_str());
  proc_ = Ref<GSubprocess>::adopt(g_subprocess_launcher_spawnv(launcher.get(), cargs.data(), nullptr));
  if (!proc_)
    return;
  ready_ = wait_until(
      [&] {
        return log().find("ready") != std::string::npos ||
               g_subprocess_get_identifier(proc_.get()) == nullptr;
      },
      std::chrono::seconds(10)) &&
           g_subprocess_get_identifier(proc_.get()) != nullptr;
}

StockServer::~StockServer() {
  if (proc_ && g_subprocess_get_identifier(proc_.get())) {
    g_subprocess_force_exit(proc_.get());
    g_subprocess_wait(proc_.get(), nullptr, nullptr);
  }
}

std::string StockServer::url(const std::string& path) const {
  return "rtsp://127.0.0.1:" + std::to_string(port_) + path;
}

GPid StockServer::pid() const {
  const char* id = proc_ ? g_subprocess_get_identifier(proc_.get()) : nullptr;
  return id ? GPid(std::atoi(id)) : 0;
}

std::string StockServer::log() const {
  std::ifstream f(log_file_);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

}  // namespace gms::test
