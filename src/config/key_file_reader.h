// Reads a GLib key file and remembers where each group and key was written:
// GKeyFile keeps no positions, and every configuration error names its line.
#pragma once

#include <gst-mediaserver/config.h>

#include <map>
#include <string>
#include <vector>

namespace gms {

struct KeyEntry {
  std::string key;
  std::string value;  // unescaped as GKeyFile does
  int line = 0;
};

struct GroupEntry {
  std::string name;
  int line = 0;
  std::vector<KeyEntry> keys;  // in file order

  const KeyEntry* find(const std::string& key) const;
};

struct KeyFileContents {
  std::string origin;
  std::vector<GroupEntry> groups;  // in file order
};

// Parses `text`; syntax errors, duplicate groups and duplicate keys are
// appended to `issues` (the rest of the file is still read).
KeyFileContents read_key_file(const std::string& text, const std::string& origin,
                              std::vector<ConfigIssue>& issues);

// The whole of `file` as text; throws ConfigError naming the file when it
// cannot be read.
std::string read_config_text(const std::string& file);

}  // namespace gms
