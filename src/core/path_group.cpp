#include "core/path_group.h"

#include <glib.h>

#include "config/path_keys.h"
#include "gms/ref.h"

namespace gms {

// Only the keys whose value differs from the default, as a file would
// state them: the reader refuses some keys on paths of another kind.
std::string path_group_text(const PathConfig& p) {
  auto kf = UniquePtr<GKeyFile, g_key_file_unref>(g_key_file_new());
  const std::string group = "path " + p.name;
  for (const auto& key : path_keys())
    if (auto value = key.write(p))
      g_key_file_set_string(kf.get(), group.c_str(), key.name, value->c_str());
  if (!g_key_file_has_group(kf.get(), group.c_str()))
    return "[" + group + "]\n";
  GCharPtr out(g_key_file_to_data(kf.get(), nullptr, nullptr));
  return out ? out.get() : "";
}

void check_as_file_group(const PathConfig& p, const std::string& origin) {
  Config::from_data(path_group_text(p), origin);
}

}  // namespace gms
