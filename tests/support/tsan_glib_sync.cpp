// Linked into the test programs of a ThreadSanitizer build only.
//
// GLib's GMutex and GCond are futex-based on Linux, and GLib and GStreamer
// are not built with ThreadSanitizer: it never sees them lock, wait or
// signal. Every hand-over that GStreamer makes under its own locks (a
// streaming thread started or joined by a state change, a pad linked
// before data flows, an object lock around a property) then looks like a
// race in our code, which reads on one side of the hand-over what the
// other side wrote. These definitions stand in for GLib's (the program's
// own symbols come first when the libraries and plugins resolve them),
// tell ThreadSanitizer what each call does, and call GLib's.
//
// Only calls from outside GLib are seen this way: GLib binds its own
// internal calls to itself. Those stay invisible, as do GLib's atomics
// (reference counts); the suppressions file covers reports inside these
// libraries.
#include <dlfcn.h>
#include <stdlib.h>
#include <glib.h>
#include <sanitizer/tsan_interface.h>

namespace {

template <typename Fn>
Fn real(const char* name) {
  return reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name));
}

// GMS_TSAN_GLIB_SYNC=0 turns the annotations off, to count what they hide.
bool on() {
  static const bool enabled = [] {
    const char* v = getenv("GMS_TSAN_GLIB_SYNC");
    return !v || v[0] != '0';
  }();
  return enabled;
}

}  // namespace

extern "C" {

void g_mutex_lock(GMutex* m) {
  static auto fn = real<void (*)(GMutex*)>("g_mutex_lock");
  if (on())
    __tsan_mutex_pre_lock(m, 0);
  fn(m);
  if (on())
    __tsan_mutex_post_lock(m, 0, 0);
}

gboolean g_mutex_trylock(GMutex* m) {
  static auto fn = real<gboolean (*)(GMutex*)>("g_mutex_trylock");
  if (on())
    __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
  gboolean got = fn(m);
  if (on())
    __tsan_mutex_post_lock(m, __tsan_mutex_try_lock | (got ? 0 : __tsan_mutex_try_lock_failed), 0);
  return got;
}

void g_mutex_unlock(GMutex* m) {
  static auto fn = real<void (*)(GMutex*)>("g_mutex_unlock");
  if (on())
    __tsan_mutex_pre_unlock(m, 0);
  fn(m);
  if (on())
    __tsan_mutex_post_unlock(m, 0);
}

void g_rec_mutex_lock(GRecMutex* m) {
  static auto fn = real<void (*)(GRecMutex*)>("g_rec_mutex_lock");
  if (on())
    __tsan_mutex_pre_lock(m, 0);
  fn(m);
  if (on())
    __tsan_mutex_post_lock(m, 0, 0);
}

gboolean g_rec_mutex_trylock(GRecMutex* m) {
  static auto fn = real<gboolean (*)(GRecMutex*)>("g_rec_mutex_trylock");
  if (on())
    __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
  gboolean got = fn(m);
  if (on())
    __tsan_mutex_post_lock(m, __tsan_mutex_try_lock | (got ? 0 : __tsan_mutex_try_lock_failed), 0);
  return got;
}

void g_rec_mutex_unlock(GRecMutex* m) {
  static auto fn = real<void (*)(GRecMutex*)>("g_rec_mutex_unlock");
  if (on())
    __tsan_mutex_pre_unlock(m, 0);
  fn(m);
  if (on())
    __tsan_mutex_post_unlock(m, 0);
}

void g_rw_lock_writer_lock(GRWLock* l) {
  static auto fn = real<void (*)(GRWLock*)>("g_rw_lock_writer_lock");
  if (on())
    __tsan_mutex_pre_lock(l, 0);
  fn(l);
  if (on())
    __tsan_mutex_post_lock(l, 0, 0);
}

void g_rw_lock_writer_unlock(GRWLock* l) {
  static auto fn = real<void (*)(GRWLock*)>("g_rw_lock_writer_unlock");
  if (on())
    __tsan_mutex_pre_unlock(l, 0);
  fn(l);
  if (on())
    __tsan_mutex_post_unlock(l, 0);
}

void g_rw_lock_reader_lock(GRWLock* l) {
  static auto fn = real<void (*)(GRWLock*)>("g_rw_lock_reader_lock");
  if (on())
    __tsan_mutex_pre_lock(l, __tsan_mutex_read_lock);
  fn(l);
  if (on())
    __tsan_mutex_post_lock(l, __tsan_mutex_read_lock, 0);
}

void g_rw_lock_reader_unlock(GRWLock* l) {
  static auto fn = real<void (*)(GRWLock*)>("g_rw_lock_reader_unlock");
  if (on())
    __tsan_mutex_pre_unlock(l, __tsan_mutex_read_lock);
  fn(l);
  if (on())
    __tsan_mutex_post_unlock(l, __tsan_mutex_read_lock);
}

// A wait gives the mutex up and takes it again; what the signalling thread
// did before signalling happens before the waiter goes on.
void g_cond_wait(GCond* c, GMutex* m) {
  static auto fn = real<void (*)(GCond*, GMutex*)>("g_cond_wait");
  if (on())
    __tsan_mutex_pre_unlock(m, 0);
  if (on())
    __tsan_mutex_post_unlock(m, 0);
  fn(c, m);
  if (on())
    __tsan_mutex_pre_lock(m, 0);
  if (on())
    __tsan_mutex_post_lock(m, 0, 0);
  if (on())
    __tsan_acquire(c);
}

gboolean g_cond_wait_until(GCond* c, GMutex* m, gint64 end_time) {
  static auto fn = real<gboolean (*)(GCond*, GMutex*, gint64)>("g_cond_wait_until");
  if (on())
    __tsan_mutex_pre_unlock(m, 0);
  if (on())
    __tsan_mutex_post_unlock(m, 0);
  gboolean signalled = fn(c, m, end_time);
  if (on())
    __tsan_mutex_pre_lock(m, 0);
  if (on())
    __tsan_mutex_post_lock(m, 0, 0);
  if (on())
    __tsan_acquire(c);
  return signalled;
}

void g_cond_signal(GCond* c) {
  static auto fn = real<void (*)(GCond*)>("g_cond_signal");
  if (on())
    __tsan_release(c);
  fn(c);
}

void g_cond_broadcast(GCond* c) {
  static auto fn = real<void (*)(GCond*)>("g_cond_broadcast");
  if (on())
    __tsan_release(c);
  fn(c);
}

}  // extern "C"
