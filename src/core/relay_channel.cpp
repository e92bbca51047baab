#include "core/relay_channel.h"

namespace gms {

std::string relay_channel(const std::string& path, unsigned track) {
  return path + "#" + std::to_string(track);
}

}  // namespace gms
