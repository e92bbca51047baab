// Paths added, changed and removed over the HTTP API while the server runs.
//
// A request's JSON becomes the text of a `[path NAME]` group and goes
// through the configuration reader and the whole-configuration checks, so
// an API client gets the very errors a file would. What was accepted is
// applied by the server's reload (sessions on other paths stay) and kept
// here as an overlay: a later SIGHUP reads the file and lays the overlay on
// it, so neither loses the other's work. With api-writes-config=true each
// change is first written to the configuration file (atomically, comments
// kept) and the overlay forgets it: the file is then the one truth and a
// reload reads it from there.
#pragma once

#include <gst-mediaserver/config.h>
#include <gst-mediaserver/status.h>

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace gms {

class RuntimePaths {
 public:
  // 200, 201; 400, 404, 409, 500 with key/reason ("" key: the body or the path).
  using Result = PathResult;
  // Makes the server serve `config` (its reload); throws ConfigError.
  using Apply = std::function<void(const Config&)>;

  // POST /api/v1/paths: {"name": "/cam", "launch": "…", …}.
  Result add(const Config& current, const std::string& body, const Apply& apply);
  // PATCH /api/v1/paths/NAME: the keys given replace the path's, null removes one.
  Result patch(const Config& current, const std::string& name, const std::string& body,
               const Apply& apply);
  // DELETE /api/v1/paths/NAME.
  Result remove(const Config& current, const std::string& name, const Apply& apply);

  // Reload: the API's changes not in the file laid on the file's paths.
  // Throws ConfigError when one of them no longer fits.
  void merge_into(Config& loaded) const;

 private:
  using Keys = std::map<std::string, std::string>;
  Result commit(const Config& current, const std::string& name, const std::optional<Keys>& keys,
                const Apply& apply);
  std::optional<Keys> keys_of(const Config& current, const std::string& name) const;

  // By path name: the group's keys, or nullopt for a removed path.
  std::map<std::string, std::optional<Keys>> overlay_;
};

}  // namespace gms
