#include "path/live_mount.h"

#include "mounts/launch_mount.h"
#include "mounts/proxy_mount.h"
#include "path/publisher_source.h"

namespace gms {

LiveMount make_live_mount(const PathConfig& path, GstRTSPAddressPool* pool,
                          const mounts::PublishContextPtr& publish) {
  LiveMount m;
  if (path.is_proxy()) {
    auto p = mounts::make_proxy_factory(path, pool);
    m.factory = p.factory;
    m.source = p.path;
  } else if (path.publish) {
    m.factory = mounts::make_publish_factory(path, publish, pool);
    m.source = std::make_shared<PublisherSource>(path.name, publish->registry, publish->sinks);
  } else {
    auto l = mounts::make_launch_relay_factory(path, pool);
    m.factory = l.factory;
    m.source = l.relay;
  }
  if (m.source)
    m.source->set_traffic(publish->traffic->of(path.name));
  return m;
}

const char* kind_of(const PathConfig& path) {
  if (path.publish)
    return "publish";
  if (path.is_proxy())
    return "proxy";
  if (path.is_root())
    return "files";
  return "launch";
}

}  // namespace gms
