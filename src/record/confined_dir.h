// Making the directory of a recording's files without leaving the record
// root: a directory on the way replaced by a symbolic link to somewhere
// else while recording (or the root itself) must not lead files, or
// directories made for them, out of it.
#pragma once

#include <string>

namespace gms {

// `root` as the file system resolves it now (links followed); `root` itself
// when it cannot be resolved (it does not exist yet).
std::string resolved_dir(const std::string& root);

// Makes `dir` (under `root`, as given) one component at a time, checking
// before each step that where it stands resolves inside `resolved_root`
// (from resolved_dir(root) when recording started). False with the reason
// in `why` when a component cannot be made or leads outside; nothing is
// made past that point.
bool make_dir_inside(const std::string& dir, const std::string& root,
                     const std::string& resolved_root, std::string& why);

}  // namespace gms
