#include "config/key_file_reader.h"

#include <glib.h>

#include "gms/ref.h"

namespace gms {
namespace {

std::string trim(const std::string& s) {
  const char* ws = " \t\r";
  auto b = s.find_first_not_of(ws);
  if (b == std::string::npos)
    return {};
  auto e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// GKeyFile's value escapes (\s \n \t \r \\), so values mean what GLib says.
std::string unescape(const std::string& raw, bool& ok) {
  GCharPtr out(g_strcompress(raw.c_str()));
  ok = true;
  // g_strcompress also accepts octal and \b \f; GKeyFile refuses unknown
  // escapes. Only a trailing lone backslash is worth a complaint here.
  if (!raw.empty() && raw.back() == '\\') {
    size_t n = 0;
    for (auto it = raw.rbegin(); it != raw.rend() && *it == '\\'; ++it)
      ++n;
    ok = (n % 2) == 0;
  }
  return out.get();
}

}  // namespace

const KeyEntry* GroupEntry::find(const std::string& key) const {
  for (const auto& k : keys)
    if (k.key == key)
      return &k;
  return nullptr;
}

KeyFileContents read_key_file(const std::string& text, const std::string& origin,
                              std::vector<ConfigIssue>& issues) {
  KeyFileContents out;
  out.origin = origin;
  if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr)) {
    issues.push_back({origin, 0, "", "", "the file is not valid UTF-8"});
    return out;
  }
  std::map<std::string, int> group_lines;
  GroupEntry* current = nullptr;
  bool in_refused_group = false;  // its keys are not reported again
  int lineno = 0;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string raw = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = (nl == std::string::npos) ? text.size() + 1 : nl + 1;
    ++lineno;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    if (line[0] == '[') {
      if (line.back() != ']' || line.size() < 3) {
        issues.push_back({origin, lineno, "", "", "a group header must look like [name]"});
        current = nullptr;
        in_refused_group = true;
        continue;
      }
      std::string name = trim(line.substr(1, line.size() - 2));
      auto [it, fresh] = group_lines.emplace(name, lineno);
      if (!fresh) {
        issues.push_back({origin, lineno, name, "",
                          "duplicate group (first defined at line " + std::to_string(it->second) + ")"});
        current = nullptr;
        in_refused_group = true;
        continue;
      }
      out.groups.push_back({name, lineno, {}});
      current = &out.groups.back();
      in_refused_group = false;
      continue;
    }
    auto eq = line.find('=');
    if (eq == std::string::npos || eq == 0) {
      issues.push_back({origin, lineno, current ? current->name : "", "",
                        "not a key=value line, a [group] or a # comment"});
      continue;
    }
    std::string key = trim(line.substr(0, eq));
    std::string value = trim(line.substr(eq + 1));
    if (!current) {
      if (!in_refused_group)
        issues.push_back({origin, lineno, "", key, "key outside of any [group]"});
      continue;
    }
    if (const KeyEntry* prev = current->find(key)) {
      issues.push_back({origin, lineno, current->name, key,
                        "set twice in this group (first at line " + std::to_string(prev->line) + ")"});
      continue;
    }
    bool ok = true;
    std::string unescaped = unescape(value, ok);
    if (!ok) {
      issues.push_back({origin, lineno, current->name, key, "value ends with a lone backslash"});
      continue;
    }
    current->keys.push_back({key, unescaped, lineno});
  }
  return out;
}

std::string read_config_text(const std::string& file) {
  gchar* raw = nullptr;
  gsize len = 0;
  GErrorPtr err;
  if (!g_file_get_contents(file.c_str(), &raw, &len, out(err)))
    throw ConfigError({{file, 0, "", "", std::string("cannot read: ") + err->message}});
  GCharPtr text(raw);
  return std::string(text.get(), len);
}

}  // namespace gms
