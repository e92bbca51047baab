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
// libraries. gst_element_call_async and g_task_run_in_thread are wrapped
// too (their hand-overs to a thread pool), and g_object_unref (the
// reference count's ordering).
#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <gio/gio.h>
#include <glib.h>
#include <gst/gst.h>
#include <sanitizer/tsan_interface.h>

#include <algorithm>
#include <map>
#include <mutex>

namespace {

// A function's name as a template argument.
template <size_t N>
struct Name {
  char text[N];
  constexpr Name(const char (&s)[N]) {
    std::copy_n(s, N, text);
  }
};

// The library's own definition of `name`, looked up once.
template <Name name, typename Fn>
Fn real() {
  static const Fn fn = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, name.text));
  return fn;
}

// GMS_TSAN_GLIB_SYNC=0 turns the annotations off, to count what they hide.
bool on() {
  static const bool enabled = [] {
    const char* v = getenv("GMS_TSAN_GLIB_SYNC");
    return !v || v[0] != '0';
  }();
  return enabled;
}

// A call handed to GStreamer's thread pool (gst_element_call_async): what
// the caller did before the call happens before the pool thread runs it,
// and before it frees the call's data.
struct AsyncCall {
  GstElementCallAsyncFunc func;
  gpointer data;
  GDestroyNotify notify;
};

void run_async_call(GstElement* element, gpointer p) {
  auto* call = static_cast<AsyncCall*>(p);
  __tsan_acquire(call);
  call->func(element, call->data);
}

void free_async_call(gpointer p) {
  auto* call = static_cast<AsyncCall*>(p);
  __tsan_acquire(call);
  if (call->notify)
    call->notify(call->data);
  delete call;
}

// GLib's `fn` on lock `m`, shown to ThreadSanitizer as a lock (`flags`:
// __tsan_mutex_read_lock for a reader), a try-lock, or an unlock.
template <typename Lock>
void locked(void (*fn)(Lock*), Lock* m, unsigned flags) {
  if (on())
    __tsan_mutex_pre_lock(m, flags);
  fn(m);
  if (on())
    __tsan_mutex_post_lock(m, flags, 0);
}

template <typename Lock>
gboolean try_locked(gboolean (*fn)(Lock*), Lock* m) {
  if (on())
    __tsan_mutex_pre_lock(m, __tsan_mutex_try_lock);
  const gboolean got = fn(m);
  if (on())
    __tsan_mutex_post_lock(m, __tsan_mutex_try_lock | (got ? 0 : __tsan_mutex_try_lock_failed), 0);
  return got;
}

template <typename Lock>
void unlocked(void (*fn)(Lock*), Lock* m, unsigned flags) {
  if (on())
    __tsan_mutex_pre_unlock(m, flags);
  fn(m);
  if (on())
    __tsan_mutex_post_unlock(m, flags);
}

// A condition wait `wait` on `c` with mutex `m`: the mutex is given up
// and taken again, and the waiter acquires what the signaller released.
template <typename Wait>
void waited(GCond* c, GMutex* m, Wait wait) {
  if (on()) {
    __tsan_mutex_pre_unlock(m, 0);
    __tsan_mutex_post_unlock(m, 0);
  }
  wait();
  if (on()) {
    __tsan_mutex_pre_lock(m, 0);
    __tsan_mutex_post_lock(m, 0, 0);
    __tsan_acquire(c);
  }
}

// The functions of tasks run with g_task_run_in_thread, until their pool
// thread takes them. Never destroyed: pool threads outlive main().
std::mutex task_mutex;
std::map<GTask*, GTaskThreadFunc>& task_funcs() {
  static auto* funcs = new std::map<GTask*, GTaskThreadFunc>;
  return *funcs;
}

void run_task(GTask* task, gpointer source, gpointer data, GCancellable* cancellable) {
  __tsan_acquire(task);
  GTaskThreadFunc func = nullptr;
  {
    std::lock_guard lock(task_mutex);
    func = task_funcs()[task];
    task_funcs().erase(task);
  }
  if (func)
    func(task, source, data, cancellable);
}

}  // namespace

extern "C" {

// A task's thread function runs on a thread of GLib's pool, handed over
// through a queue GLib locks inside itself: what the caller did before
// (the task data it set) happens before the function runs.
void g_task_run_in_thread(GTask* task, GTaskThreadFunc func) {
  const auto fn = real<"g_task_run_in_thread", void (*)(GTask*, GTaskThreadFunc)>();
  if (!on()) {
    fn(task, func);
    return;
  }
  {
    std::lock_guard lock(task_mutex);
    task_funcs()[task] = func;
  }
  __tsan_release(task);
  fn(task, run_task);
}

// A reference count is an atomic that GLib changes with full barriers:
// whatever a thread did before dropping a reference happens before the
// thread that drops the last one finalizes the object (and frees what it
// owns, a task's data for one).
void g_object_unref(gpointer object) {
  if (on() && object) {
    __tsan_release(object);
    __tsan_acquire(object);
  }
  real<"g_object_unref", void (*)(gpointer)>()(object);
}

// GStreamer pushes the call into a GThreadPool, whose queue GLib locks
// inside itself: without this, everything the caller made for the call
// (the recorder's jobs) looks written on one thread and read or freed on
// another without synchronisation.
void gst_element_call_async(GstElement* element, GstElementCallAsyncFunc func, gpointer user_data,
                            GDestroyNotify destroy_notify) {
  const auto fn =
      real<"gst_element_call_async", void (*)(GstElement*, GstElementCallAsyncFunc, gpointer, GDestroyNotify)>();
  if (!on()) {
    fn(element, func, user_data, destroy_notify);
    return;
  }
  auto* call = new AsyncCall{func, user_data, destroy_notify};
  __tsan_release(call);
  fn(element, run_async_call, call, free_async_call);
}

void g_mutex_lock(GMutex* m) {
  locked(real<"g_mutex_lock", void (*)(GMutex*)>(), m, 0);
}
gboolean g_mutex_trylock(GMutex* m) {
  return try_locked(real<"g_mutex_trylock", gboolean (*)(GMutex*)>(), m);
}
void g_mutex_unlock(GMutex* m) {
  unlocked(real<"g_mutex_unlock", void (*)(GMutex*)>(), m, 0);
}

void g_rec_mutex_lock(GRecMutex* m) {
  locked(real<"g_rec_mutex_lock", void (*)(GRecMutex*)>(), m, 0);
}
gboolean g_rec_mutex_trylock(GRecMutex* m) {
  return try_locked(real<"g_rec_mutex_trylock", gboolean (*)(GRecMutex*)>(), m);
}
void g_rec_mutex_unlock(GRecMutex* m) {
  unlocked(real<"g_rec_mutex_unlock", void (*)(GRecMutex*)>(), m, 0);
}

void g_rw_lock_writer_lock(GRWLock* l) {
  locked(real<"g_rw_lock_writer_lock", void (*)(GRWLock*)>(), l, 0);
}
void g_rw_lock_writer_unlock(GRWLock* l) {
  unlocked(real<"g_rw_lock_writer_unlock", void (*)(GRWLock*)>(), l, 0);
}
void g_rw_lock_reader_lock(GRWLock* l) {
  locked(real<"g_rw_lock_reader_lock", void (*)(GRWLock*)>(), l, __tsan_mutex_read_lock);
}
void g_rw_lock_reader_unlock(GRWLock* l) {
  unlocked(real<"g_rw_lock_reader_unlock", void (*)(GRWLock*)>(), l, __tsan_mutex_read_lock);
}

// A wait gives the mutex up and takes it again; what the signalling thread
// did before signalling happens before the waiter goes on.
void g_cond_wait(GCond* c, GMutex* m) {
  waited(c, m, [&] { real<"g_cond_wait", void (*)(GCond*, GMutex*)>()(c, m); });
}

gboolean g_cond_wait_until(GCond* c, GMutex* m, gint64 end_time) {
  gboolean signalled = FALSE;
  waited(c, m, [&] { signalled = real<"g_cond_wait_until", gboolean (*)(GCond*, GMutex*, gint64)>()(c, m, end_time); });
  return signalled;
}

void g_cond_signal(GCond* c) {
  if (on())
    __tsan_release(c);
  real<"g_cond_signal", void (*)(GCond*)>()(c);
}

void g_cond_broadcast(GCond* c) {
  if (on())
    __tsan_release(c);
  real<"g_cond_broadcast", void (*)(GCond*)>()(c);
}

}  // extern "C"
