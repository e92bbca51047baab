// A GMainContext run by its own thread, for in-test servers (stock
// gst-rtsp-server, fake back ends, an embedded gms::Server) that must answer
// while the test thread blocks in a request.
#pragma once

#include <glib.h>

#include <functional>
#include <future>
#include <thread>
#include <type_traits>

namespace gms::test {

class ContextThread {
 public:
  // `setup` runs first, with the context pushed as thread-default, so that
  // sources and GIO services it creates land on it.
  explicit ContextThread(const std::function<void()>& setup = {}) {
    ctx_ = g_main_context_new();
    loop_ = g_main_loop_new(ctx_, FALSE);
    if (setup) {
      g_main_context_push_thread_default(ctx_);
      setup();
      g_main_context_pop_thread_default(ctx_);
    }
    thread_ = std::thread([this] {
      g_main_context_push_thread_default(ctx_);
      g_main_loop_run(loop_);
      g_main_context_pop_thread_default(ctx_);
    });
  }
  ~ContextThread() { stop(); }
  ContextThread(const ContextThread&) = delete;
  ContextThread& operator=(const ContextThread&) = delete;

  GMainContext* context() const { return ctx_; }

  // Quits from inside the loop (a quit before the loop runs would be lost)
  // and joins the thread.
  void stop() {
    if (!thread_.joinable())
      return;
    g_main_context_invoke(
        ctx_,
        [](gpointer loop) -> gboolean {
          g_main_loop_quit(static_cast<GMainLoop*>(loop));
          return G_SOURCE_REMOVE;
        },
        loop_);
    thread_.join();
    g_main_loop_unref(loop_);
    g_main_context_unref(ctx_);
  }

 private:
  GMainContext* ctx_;
  GMainLoop* loop_;
  std::thread thread_;
};

// Runs `fn` on `ctx` (whose thread runs it) and returns its result: how a
// test calls a server whose calls belong on its context.
template <typename F>
auto run_on(GMainContext* ctx, F fn) {
  using R = std::invoke_result_t<F>;
  std::packaged_task<R()> task(std::move(fn));
  auto result = task.get_future();
  g_main_context_invoke(
      ctx,
      [](gpointer t) -> gboolean {
        (*static_cast<std::packaged_task<R()>*>(t))();
        return G_SOURCE_REMOVE;
      },
      &task);
  return result.get();
}

}  // namespace gms::test
