// gms::invoke_on (gms/invoke.h): a call from a thread that does not run
// the context is queued there, even when that thread could acquire it.
// GLib's g_main_context_invoke_full() runs it at once on such a thread; for
// the global default context that is any thread while its loop does not
// run (at startup and during a stop), and a client thread so ran the
// server's path bookkeeping beside the main thread destroying the paths.
#include <gtest/gtest.h>
#include <glib.h>

#include <atomic>
#include <thread>

#include "gms/invoke.h"

namespace gms {
namespace {

struct Ran {
  std::atomic<bool> ran{false};
  std::thread::id on;
};

gboolean note(gpointer data) noexcept {
  auto* r = static_cast<Ran*>(data);
  r->on = std::this_thread::get_id();
  r->ran = true;
  return G_SOURCE_REMOVE;
}

void run_pending(GMainContext* context) {
  while (g_main_context_iteration(context, FALSE)) {
  }
}

TEST(InvokeOn, GLibsInvokeRunsOnAForeignThreadThatCanAcquireTheDefaultContext) {
  Ran r;  // (the fact the helper exists for)
  std::thread t([&] { g_main_context_invoke_full(nullptr, G_PRIORITY_DEFAULT, note, &r, nullptr); });
  t.join();
  EXPECT_TRUE(r.ran);
  EXPECT_NE(r.on, std::this_thread::get_id());
}

TEST(InvokeOn, AForeignThreadQueuesItForTheThreadThatRunsTheContext) {
  Ran r;
  std::thread t([&] { invoke_on(nullptr, note, &r, nullptr); });
  t.join();
  EXPECT_FALSE(r.ran) << "ran on the calling thread";
  run_pending(nullptr);
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(r.on, std::this_thread::get_id());
}

TEST(InvokeOn, TheThreadRunningTheContextRunsItAtOnceAndFreesItsData) {
  GMainContext* context = g_main_context_new();
  ASSERT_TRUE(g_main_context_acquire(context));
  Ran r;
  static std::atomic<int> freed{0};
  invoke_on(context, note, &r, [](gpointer) { freed++; });
  EXPECT_TRUE(r.ran);
  EXPECT_EQ(freed.load(), 1);
  g_main_context_release(context);
  g_main_context_unref(context);
}

}  // namespace
}  // namespace gms
