// Maps the rest of a request path onto a file inside a root directory, or
// says why not. Never yields a file outside the root: `..` and `.`
// segments, empty segments (absolute paths, `//`), NUL and control bytes,
// over-long names, symlinks that lead out, and anything but a readable
// regular file are refused.
#pragma once

#include <string>

namespace gms::mounts {

struct ResolvedFile {
  int status = 404;    // 200, 400 (malformed) or 404
  std::string path;    // the real path (no symlinks), inside the root
  std::string reason;  // for the log; never sent to the client
};

// `root_real` is the root's real path (realpath, no trailing '/').
// `relative` is the request path after the mount prefix and its '/',
// still percent-encoded as the client sent it.
ResolvedFile resolve_in_root(const std::string& root_real, const std::string& relative);

// Percent-decoding of a URL path; false for a malformed escape.
bool percent_decode(const std::string& in, std::string& out);

}  // namespace gms::mounts
