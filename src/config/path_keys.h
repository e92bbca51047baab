// Every key of a [path NAME] group, in one table: its name, the kind of
// path it belongs to, how a file's value is read into a PathConfig, and how
// a PathConfig's value is written back as a file would state it (nothing
// when it is the default, that of a default-constructed PathConfig). The
// config reader and the writer behind Server::add_path both use it, so a
// new key is added here once.
#pragma once

#include <gst-mediaserver/config.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace gms {

enum class PathKeyScope { kAny, kProxy, kLaunch, kPublish };

struct PathKey {
  const char* name;
  PathKeyScope scope;
  // False with `why` for a value the key cannot take. `base_dir`: the
  // file's directory, against which relative file names are read.
  std::function<bool(const std::string& value, const std::string& base_dir, PathConfig& p,
                     std::string& why)>
      read;
  // The value's text; nullopt when it is the default.
  std::function<std::optional<std::string>(const PathConfig& p)> write;
};

// In the order the reader suggests names in and the writer writes them.
const std::vector<PathKey>& path_keys();

// The names of the keys of `scope`; every name when `scope` is null.
std::vector<std::string> path_key_names(std::optional<PathKeyScope> scope = std::nullopt);

}  // namespace gms
