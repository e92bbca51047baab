// Gives the memory that malloc holds free back to the system, now and then.
//
// Why: the server's threads come and go with their viewers, and glibc keeps
// what they freed in its arenas. Over hours of churn that free memory grew
// the process's resident size by about 2 MB an hour while the memory in use
// stayed flat (heaptrack on the soak: what was allocated after the warm-up
// and still held at its end was packets in flight). malloc_trim() hands the
// free pages of every arena back.
//
// The program's own, not the library's: an application that embeds the
// server decides about its process's allocator itself.
#pragma once

#include <glib.h>

namespace gms::tool {

class MemoryTrim {
 public:
  // Every `seconds` on the thread-default context, a short thread of its own
  // trims (the arenas' locks are taken in turn: never on the control thread,
  // where a large heap could hold up requests).
  explicit MemoryTrim(guint seconds);
  ~MemoryTrim();
  MemoryTrim(const MemoryTrim&) = delete;
  MemoryTrim& operator=(const MemoryTrim&) = delete;

 private:
  guint source_ = 0;
};

}  // namespace gms::tool
