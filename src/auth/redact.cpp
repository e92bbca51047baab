#include "auth/redact.h"

#include <glib.h>

#include <cstring>
#include <vector>

#include "gms/ref.h"

namespace gms::auth {
namespace {

struct Rule {
  const char* pattern;
  const char* replacement;
};

// Each rule keeps what tells a reader what happened (the scheme, the user,
// the header's name) and replaces the secret with ***.
const Rule kRules[] = {
    // scheme://user:password@host (also inside launch lines and messages)
    {R"re(([a-z][a-z0-9+.-]*://[^\s:/@"']*):[^\s@/"']*@)re", R"re(\1:***@)re"},
    // Authorization: Basic …, Proxy-Authorization: Digest … (to the end of the line)
    {R"re(((?:proxy-)?authorization)(\s*[:=]\s*)[^\r\n]*)re", R"re(\1\2***)re"},
    // A bare scheme with its credentials where no header name precedes it
    {R"re(\b(basic)\s+[A-Za-z0-9+/=]{8,})re", R"re(\1 ***)re"},
    {R"re(\b(response|cnonce)\s*=\s*("[^"]*"|[^\s,]*))re", R"re(\1="***")re"},
    // password=…, backend-password=…, "password": "…", pbkdf2-sha256=…, ha1=…
    {R"re(([a-z-]*(?:password|passwd|pass|secret|pbkdf2-sha256|ha1)"?\s*[=:]\s*)("[^"]*"|[^\s,;&]*))re",
     R"re(\1***)re"},
};

const std::vector<GRegex*>& compiled() {
  static const std::vector<GRegex*> regexes = [] {
    std::vector<GRegex*> v;
    for (const auto& r : kRules)
      v.push_back(g_regex_new(r.pattern, GRegexCompileFlags(G_REGEX_CASELESS | G_REGEX_OPTIMIZE),
                              GRegexMatchFlags(0), nullptr));
    return v;
  }();
  return regexes;
}

}  // namespace

std::string redact(const std::string& text) {
  // Most lines hold none of the markers: skip the regexes for them.
  static const char* const kMarkers[] = {"@", "uthoriz", "asic", "esponse", "nonce", "ass",
                                         "ecret", "pbkdf2", "ha1"};
  bool maybe = false;
  for (const char* m : kMarkers)
    if (strcasestr(text.c_str(), m)) {
      maybe = true;
      break;
    }
  if (!maybe)
    return text;
  std::string out = text;
  const auto& regexes = compiled();
  for (size_t i = 0; i < regexes.size(); ++i) {
    if (!regexes[i])
      continue;
    GCharPtr r(g_regex_replace(regexes[i], out.c_str(), gssize(out.size()), 0,
                               kRules[i].replacement, GRegexMatchFlags(0), nullptr));
    if (r)
      out = r.get();
  }
  return out;
}

}  // namespace gms::auth
