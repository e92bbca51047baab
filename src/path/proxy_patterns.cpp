#include "path/proxy_patterns.h"

#include "core/log.h"

namespace gms {

std::string ProxyPatterns::expand_url(const std::string& url, const std::string& path) {
  static const std::string kVar = "$path";
  std::string name = !path.empty() && path[0] == '/' ? path.substr(1) : path;
  std::string out;
  size_t from = 0;
  for (size_t at; (at = url.find(kVar, from)) != std::string::npos; from = at + kVar.size())
    out += url.substr(from, at - from) + name;
  return out + url.substr(from);
}

void ProxyPatterns::attach(GMainContext* control, std::function<void()> on_new,
                           std::shared_ptr<TrafficBoard> board) {
  std::lock_guard<std::mutex> g(lock_);
  control_ = Ref<GMainContext>::borrow(control);
  on_new_ = std::move(on_new);
  board_ = std::move(board);
}

Ref<GstRTSPMediaFactory> ProxyPatterns::make(PathConfig path, GstRTSPAddressPool* pool) {
  path.proxy = expand_url(path.proxy, path.name);
  path.on_demand = true;
  auto m = mounts::make_proxy_factory(path, pool);
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> g(lock_);
    // Nobody else knows this path yet: its start may run here, off the
    // control context (it only prepares the back end; the first viewer's
    // wait_ready() connects it there).
    if (board_)
      m.path->set_traffic(board_->of(path.name));
    if (control_)
      m.path->start(control_.get());
    if (auto old = paths_.find(path.name); old != paths_.end())
      GMS_LOG_WARN("path %s: made again before the last one went", path.name.c_str());
    paths_[path.name] = m.path;
    fresh_.push_back(m.path);
    notify = on_new_;
  }
  GMS_LOG_INFO("path %s: made on demand (pattern proxy)", path.name.c_str());
  if (notify)
    notify();
  return m.factory;
}

std::vector<std::shared_ptr<mounts::ProxyPath>> ProxyPatterns::take_new() {
  std::lock_guard<std::mutex> g(lock_);
  return std::exchange(fresh_, {});
}

bool ProxyPatterns::owns(const std::string& name) const {
  std::lock_guard<std::mutex> g(lock_);
  return paths_.count(name) > 0;
}

bool ProxyPatterns::retire_if_idle(const std::string& name) {
  std::shared_ptr<mounts::ProxyPath> p;
  {
    std::lock_guard<std::mutex> g(lock_);
    auto it = paths_.find(name);
    if (it == paths_.end())
      return true;
    p = it->second;
  }
  if (!p->retire_if_idle())
    return false;
  forget(name);
  return true;
}

void ProxyPatterns::forget(const std::string& name) {
  std::lock_guard<std::mutex> g(lock_);
  paths_.erase(name);
}

}  // namespace gms
