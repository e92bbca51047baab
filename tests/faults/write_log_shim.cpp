// A log of the recorder's writes for the torn-write case, loaded into the
// server with LD_PRELOAD: every write to a regular file under
// $GMS_WRITE_LOG_DIR is appended, once done, to the file $GMS_WRITE_LOG as
// one record: the file's path (4-byte length, then its bytes), the offset
// written at (8 bytes), the number of bytes written (8 bytes) and those
// bytes, numbers in host byte order. Replaying the records shows a file as
// it stood at any moment, also in the middle of a write: what a crash or a
// full disk leaves. (write_shim.h: what the shims catch.)
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <pthread.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "write_shim.h"

namespace {

using gms::shim::next;

pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;  // protects g_log and the log's records
int g_log = -1;

void put(const void* bytes, size_t n) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  const char* p = static_cast<const char*>(bytes);
  while (n > 0) {
    const ssize_t w = real(g_log, p, n);
    if (w <= 0)
      return;
    p += w;
    n -= size_t(w);
  }
}

// The file `fd` writes to when it is one to log ("" if not), and where
// its next write goes.
struct Target {
  char path[4096] = "";
  long long offset = -1;
};

Target target_of(int fd, long long offset = -1) {
  Target t;
  if (!gms::shim::file_under(fd, getenv("GMS_WRITE_LOG_DIR"), t.path, sizeof t.path)) {
    t.path[0] = '\0';
    return t;
  }
  t.offset = offset >= 0 ? offset : (long long)lseek(fd, 0, SEEK_CUR);
  return t;
}

// Logs the first `done` bytes of `iov`, written to `t`.
void log_write(const Target& t, const struct iovec* iov, int iovcnt, ssize_t done) {
  if (!t.path[0] || t.offset < 0 || done <= 0)
    return;
  pthread_mutex_lock(&g_lock);
  if (g_log < 0) {
    const char* log = getenv("GMS_WRITE_LOG");
    g_log = log ? open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644) : -1;
  }
  if (g_log >= 0) {
    const uint32_t len = uint32_t(strlen(t.path));
    const uint64_t offset = uint64_t(t.offset);
    uint64_t count = uint64_t(done);
    put(&len, sizeof len);
    put(t.path, len);
    put(&offset, sizeof offset);
    put(&count, sizeof count);
    for (int i = 0; i < iovcnt && count > 0; ++i) {
      const size_t n = std::min<uint64_t>(iov[i].iov_len, count);
      put(iov[i].iov_base, n);
      count -= n;
    }
  }
  pthread_mutex_unlock(&g_lock);
}

void log_one(const Target& t, const void* buf, ssize_t done) {
  struct iovec v = {const_cast<void*>(buf), size_t(done > 0 ? done : 0)};
  log_write(t, &v, 1, done);
}

}  // namespace

extern "C" {

ssize_t write(int fd, const void* buf, size_t count) {
  static auto real = next<ssize_t (*)(int, const void*, size_t)>("write");
  const Target t = target_of(fd);
  const ssize_t done = real(fd, buf, count);
  log_one(t, buf, done);
  return done;
}

ssize_t writev(int fd, const struct iovec* iov, int iovcnt) {
  static auto real = next<ssize_t (*)(int, const struct iovec*, int)>("writev");
  const Target t = target_of(fd);
  const ssize_t done = real(fd, iov, iovcnt);
  log_write(t, iov, iovcnt, done);
  return done;
}

ssize_t pwrite(int fd, const void* buf, size_t count, off_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off_t)>("pwrite");
  const Target t = target_of(fd, offset);
  const ssize_t done = real(fd, buf, count, offset);
  log_one(t, buf, done);
  return done;
}

ssize_t pwrite64(int fd, const void* buf, size_t count, off64_t offset) {
  static auto real = next<ssize_t (*)(int, const void*, size_t, off64_t)>("pwrite64");
  const Target t = target_of(fd, offset);
  const ssize_t done = real(fd, buf, count, offset);
  log_one(t, buf, done);
  return done;
}

}  // extern "C"
