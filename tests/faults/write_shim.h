// What the write shims (LD_PRELOAD libraries of the recorder's fault
// cases) share: the next definition of a wrapped libc function, and
// whether a descriptor is a regular file under a directory.
//
// GStreamer's filesink writes with writev() through the dynamic linker, so
// a shim sees it (fwrite inside libc would not be: its internal write is
// not interposable). Both pwrite and pwrite64 are wrapped by the shims:
// without that, the build's 64-bit file offsets would make the first an
// alias of the second. Each shim is built with _FILE_OFFSET_BITS unset.
#pragma once

#include <dlfcn.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace gms::shim {

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

// Whether `fd` is a regular file under `dir` (an absolute path without a
// trailing '/'); its path in `path` (`size` bytes) when it is.
inline bool file_under(int fd, const char* dir, char* path, size_t size) {
  if (!dir || !*dir)
    return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, size - 1);
  if (n <= 0)
    return false;
  path[n] = '\0';
  size_t len = strlen(dir);
  return strncmp(path, dir, len) == 0 && (path[len] == '/' || path[len] == '\0');
}

}  // namespace gms::shim
