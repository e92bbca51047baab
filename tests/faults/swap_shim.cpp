// An LD_PRELOAD library for file_faults: the first time the server opens the
// path in GMS_SWAP_PATH, the file there is replaced by a FIFO just before
// the open goes on. It stands for someone who can write the served
// directory swapping a checked file between the server's check and its
// open (a race too narrow to hit from outside). (write_shim.h: why the
// 64-bit names are wrapped too, and built without _FILE_OFFSET_BITS.)
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "write_shim.h"

namespace {

std::atomic<bool> swapped{false};

void maybe_swap(const char* path) {
  const char* target = getenv("GMS_SWAP_PATH");
  if (!path || !target || strcmp(path, target) != 0 || swapped.exchange(true))
    return;
  unlink(path);
  mkfifo(path, 0644);
}

mode_t mode_of(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? mode_t(va_arg(ap, int)) : 0;
}

}  // namespace

extern "C" {

int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  maybe_swap(path);
  static auto real = gms::shim::next<int (*)(const char*, int, ...)>("open");
  return real(path, flags, mode);
}

int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  maybe_swap(path);
  static auto real = gms::shim::next<int (*)(const char*, int, ...)>("open64");
  return real(path, flags, mode);
}

int openat(int dir, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  maybe_swap(path);
  static auto real = gms::shim::next<int (*)(int, const char*, int, ...)>("openat");
  return real(dir, path, flags, mode);
}

int openat64(int dir, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_of(flags, ap);
  va_end(ap);
  maybe_swap(path);
  static auto real = gms::shim::next<int (*)(int, const char*, int, ...)>("openat64");
  return real(dir, path, flags, mode);
}

}  // extern "C"
