// A PathConfig made in code, written as the [path NAME] group a file would
// hold, so that Server::add_path and change_path check it with the very
// reader a file goes through (ranges, enumerations, URLs, the root
// directory), not with a second copy of its rules.
#pragma once

#include <gst-mediaserver/config.h>

#include <string>

namespace gms {

// The group's text (GKeyFile escapes), every key the reader knows.
std::string path_group_text(const PathConfig& p);

// Reads that text back; throws ConfigError (origin `origin`) with the
// reader's issues for a value a file could not hold.
void check_as_file_group(const PathConfig& p, const std::string& origin);

}  // namespace gms
