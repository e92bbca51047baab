// A regular expression compiled once, for checking text from outside.
//
// GLib's GRegex (PCRE2) rather than std::regex: libstdc++'s matcher recurses
// once per character, so a long header value can exhaust a client thread's
// stack, and every file that instantiates it costs seconds to compile. A
// compiled GRegex is immutable and may be matched from any thread.
#pragma once

#include <glib.h>

#include <string_view>

namespace gms {

class Pattern {
 public:
  // Bytes, not UTF-8 (text from outside need not be valid UTF-8, and every
  // pattern here is ASCII); `$` matches at the very end only, not before a
  // final newline, so a trailing line break cannot slip through. An invalid
  // pattern is a programming error.
  explicit Pattern(const char* pattern, int flags = 0)
      : re_(g_regex_new(pattern,
                        GRegexCompileFlags(G_REGEX_OPTIMIZE | G_REGEX_RAW | G_REGEX_DOLLAR_ENDONLY | flags),
                        GRegexMatchFlags(0), nullptr)) {
    g_assert(re_ != nullptr);
  }
  ~Pattern() { g_regex_unref(re_); }
  Pattern(const Pattern&) = delete;
  Pattern& operator=(const Pattern&) = delete;

  // True when the pattern matches somewhere in `text` (which may hold NULs).
  bool found_in(std::string_view text) const {
    return g_regex_match_full(re_, text.data(), gssize(text.size()), 0, GRegexMatchFlags(0),
                              nullptr, nullptr);
  }

 private:
  GRegex* re_;
};

}  // namespace gms
