// The stock gst-rtsp-server program (stock_server.cpp) started for one job
// on a free loopback port, waited for until it listens; killed when
// destroyed.
#pragma once

#include <gio/gio.h>

#include <string>
#include <vector>

#include "gms/ref.h"

namespace gms::test {

class StockServer {
 public:
  // args after the port: {"relay", PATH, LAUNCH}, {"files", DIR}, {"publish"}…
  explicit StockServer(const std::vector<std::string>& args);
  ~StockServer();
  StockServer(const StockServer&) = delete;
  StockServer& operator=(const StockServer&) = delete;

  bool ready() const { return ready_; }
  uint16_t port() const { return port_; }
  std::string url(const std::string& path) const;
  GPid pid() const;
  std::string log() const;

 private:
  uint16_t port_ = 0;
  bool ready_ = false;
  std::string log_file_;
  Ref<GSubprocess> proc_;
};

}  // namespace gms::test
