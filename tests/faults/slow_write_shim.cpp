// A slow disk for the recorder's fault cases, loaded into the server with
// LD_PRELOAD: every write to a regular file under $GMS_SLOW_DIR sleeps
// $GMS_SLOW_WRITE_MS (500 by default) first. Sockets, pipes and files
// elsewhere (the log) are written at full speed. GStreamer's filesink
// writes with writev() through the dynamic linker, so it is caught (fwrite
// inside libc would not be: its internal write is not interposable).
// Both pwrite and pwrite64 are wrapped: without this, the build's 64-bit
// file offsets would make the first an alias of the second.
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace {

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

// Whether `fd` is a regular file under $GMS_SLOW_DIR.
bool under_slow_dir(int fd) {
  const char* dir = getenv("GMS_SLOW_DIR");
  if (!dir || !*dir)
    return false;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    return false;
  char link[64], target[4096];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, target, sizeof target - 1);
  if (n <= 0)
    return false;
  target[n] = '\0';
  size_t len = strlen(dir);
  return strncmp(target, dir, len) == 0 && (target[len] == '/' || target[len] == '\0');
}

void slow_down(int fd) {
  if (!under_slow_dir(fd))
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
