// A slow disk for the recorder's fault cases, loaded into the server with
// LD_PRELOAD: every write to a regular file under $GMS_SLOW_DIR sleeps
// $GMS_SLOW_WRITE_MS (500 by default) first. Sockets, pipes and files
// elsewhere (the log) are written at full speed. (write_shim.h: what the
// shims catch.)
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <sys/uio.h>

#include <cstdlib>

#include "write_shim.h"

namespace {

using gms::shim::next;

void slow_down(int fd) {
  char path[4096];
  if (!gms::shim::file_under(fd, getenv("GMS_SLOW_DIR"), path, sizeof path))
    return;
  const char* ms = getenv("GMS_SLOW_WRITE_MS");
  usleep(useconds_t((ms ? atoi(ms) : 500)) * 1000);
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  slow_down(fd);
  return real(fd, buf, count);
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  slow_down(fd);
  return real(fd, iov, iovcnt);
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  slow_down(fd);
  return real(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  slow_down(fd);
  return real(fd, buf, count, offset);
}

}  // extern "C"
