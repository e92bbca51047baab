// The name of a path's relay channel for one track: the one place channel
// names are made, whatever the path's source (launch line, proxy,
// publisher). A path has one source at a time, so its name is enough.
#pragma once

#include <string>

namespace gms {

std::string relay_channel(const std::string& path, unsigned track);

}  // namespace gms
