// ProxySource against a real origin (gst-mediaserver on another port):
// packets flow, kill -9 of the origin is noticed, and it reconnects when the
// origin is back; unreachable and silent back ends are retried with reasons;
// every back-end session's rtspsrc is freed once stopped.
#include "proxy/proxy_source.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include "live_instances.h"
#include "pipelines.h"
#include "process.h"
#include "proxy/pipeline_reaper.h"

namespace gms::test {
namespace {

using proxy::BackendOptions;
using proxy::ProxySource;
using proxy::State;
using proxy::StreamInfo;

struct Counts {
  std::atomic<unsigned> packets{0};
  std::atomic<unsigned> connected{0};
  std::atomic<unsigned> lost{0};
  size_t streams = 0;
  std::string caps0;
};

ProxySource::Callbacks count_into(Counts& c) {
  ProxySource::Callbacks cb;
  cb.rtp = [&c](unsigned, GstBuffer*) { c.packets++; };
  cb.connected = [&c](const std::vector<StreamInfo>& s) {
    c.streams = s.size();
    c.caps0.clear();  // every stream's caps: pads come in any order
    for (const auto& st : s) {
      if (!st.caps)
        continue;
      GCharPtr str(gst_caps_to_string(st.caps.get()));
      c.caps0 += std::string(str.get()) + "\n";
    }
    c.connected++;
  };
  cb.lost = [&c](const std::string&) { c.lost++; };
  return cb;
}

// rtspsrc's class (its plugin loaded).
GType rtspsrc_type() {
  auto factory = Ref<GstElementFactory>::adopt(gst_element_factory_find("rtspsrc"));
  auto loaded = Ref<GstPluginFeature>::adopt(
      factory ? gst_plugin_feature_load(GST_PLUGIN_FEATURE(factory.get())) : nullptr);
  return loaded ? gst_element_factory_get_element_type(GST_ELEMENT_FACTORY(loaded.get()))
                : G_TYPE_INVALID;
}
using LiveRtspSrc = LiveInstances<rtspsrc_type>;

// Every rtspsrc made since `live` was is finalized within 10 s (its
// pipeline is stopped on a thread of its own).
void expect_all_freed(const LiveRtspSrc& live) {
  long now = live.now();
  EXPECT_TRUE(wait_until(
      [&] { return (now = live.now()) <= 0 && proxy::pipelines_being_reaped() == 0; }, 10s))
      << now << " of the " << live.made() << " rtspsrc made are still alive";
}

TEST(ProxySource, RelaysAndReconnectsAfterKill9) {
  LiveRtspSrc live;
  for (auto transport : {proxy::Transport::kTcp, proxy::Transport::kUdp}) {
    auto origin = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--mount", std::string("/o=") + kH264Opus});
    ASSERT_TRUE(origin->ready());
    uint16_t port = origin->port();
    Counts c;
    BackendOptions opt;
    opt.url = origin->url("/o");
    opt.transport = transport;
    opt.stall_timeout = std::chrono::seconds(2);
    ProxySource src("/p", opt, g_main_context_default(), count_into(c));
    src.start();
    ASSERT_TRUE(wait_until([&] { return c.connected == 1 && c.packets > 50; }, 20s))
        << src.status().last_error;
    EXPECT_EQ(c.streams, 2u);
    EXPECT_NE(c.caps0.find("H264"), std::string::npos) << c.caps0;
    EXPECT_EQ(src.status().state, State::kPlaying);

    origin->signal(SIGKILL);
    origin->wait_exit(5s);
    ASSERT_TRUE(wait_until([&] { return c.lost >= 1; }, 10s)) << to_string(src.status().state);
    EXPECT_EQ(src.status().state, State::kRetrying);
    EXPECT_FALSE(src.status().last_error.empty());

    origin = std::make_unique<ServerProcess>(
        std::vector<std::string>{"--mount", std::string("/o=") + kH264Opus}, true, port);
    ASSERT_TRUE(origin->ready()) << origin->log();
    unsigned before = c.packets;
    EXPECT_TRUE(wait_until([&] { return c.connected >= 2 && c.packets > before + 50; }, 20s))
        << src.status().last_error;
    EXPECT_GE(src.status().connects, 2u);
    src.stop();
    EXPECT_EQ(src.status().state, State::kStopped);
  }
  EXPECT_GE(live.made(), 4);
  expect_all_freed(live);
}

TEST(ProxySource, StalledBackEndIsDetected) {
  ServerProcess origin({"--mount", std::string("/o=") + kMjpeg});
  ASSERT_TRUE(origin.ready());
  Counts c;
  BackendOptions opt;
  opt.url = origin.url("/o");
  opt.transport = proxy::Transport::kTcp;
  opt.stall_timeout = std::chrono::seconds(2);
  ProxySource src("/p", opt, g_main_context_default(), count_into(c));
  src.start();
  ASSERT_TRUE(wait_until([&] { return c.connected == 1 && c.packets > 10; }, 20s));
  origin.signal(SIGSTOP);  // the connection stays open, nothing arrives
  auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(wait_until([&] { return c.lost >= 1; }, 10s));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 4s);
  EXPECT_NE(src.status().last_error.find("no data for 2 s"), std::string::npos)
      << src.status().last_error;
  origin.signal(SIGCONT);
  EXPECT_TRUE(wait_until([&] { return c.connected >= 2; }, 20s)) << src.status().last_error;
}

// A back end nobody listens for, over TCP.
BackendOptions unreachable_backend() {
  BackendOptions opt;
  opt.url = "rtsp://127.0.0.1:" + std::to_string(free_port()) + "/nothing";
  opt.transport = proxy::Transport::kTcp;
  return opt;
}

TEST(ProxySource, UnreachableBackEndIsRetried) {
  Counts c;
  ProxySource src("/p", unreachable_backend(), g_main_context_default(), count_into(c));
  src.start();
  ASSERT_TRUE(wait_until([&] { return c.lost >= 1; }, 15s));
  EXPECT_EQ(src.status().state, State::kRetrying);
  EXPECT_EQ(src.status().retry_in, std::chrono::milliseconds(1000));
  ASSERT_TRUE(wait_until([&] { return c.lost >= 2; }, 15s));
  EXPECT_EQ(src.status().retry_in, std::chrono::milliseconds(2000));
  EXPECT_EQ(c.connected, 0u);
}

// A back end that is down costs nothing per retry: each session's rtspsrc
// (and its elements, about 7 KB) is freed. One reference too many, taken
// when it was put in its pipeline, once kept every one of them for good: a
// camera offline for a day leaked a few MB, and the soak's proxy, its
// origin restarted 50 times, grew by about 2 MB an hour.
TEST(ProxySource, EveryBackEndSessionIsFreed) {
  LiveRtspSrc live;
  Counts c;
  {
    ProxySource src("/p", unreachable_backend(), g_main_context_default(), count_into(c));
    src.start();
    EXPECT_EQ(live.made(), 1) << "rtspsrc instances are not counted";
    // Three sessions: at once, 1 s later, 2 s after that.
    ASSERT_TRUE(wait_until([&] { return c.lost >= 3; }, 20s));
    src.stop();
  }
  EXPECT_GE(live.made(), 3);
  expect_all_freed(live);
}

TEST(ProxySource, SilentBackEndTimesOut) {
  // Accepts TCP and never answers.
  uint16_t port = 0;
  int fd = listening_socket(port);
  Counts c;
  BackendOptions opt;
  opt.url = "rtsp://127.0.0.1:" + std::to_string(port) + "/x";
  opt.connect_timeout = std::chrono::seconds(2);
  ProxySource src("/p", opt, g_main_context_default(), count_into(c));
  auto t0 = std::chrono::steady_clock::now();
  src.start();
  ASSERT_TRUE(wait_until([&] { return c.lost >= 1; }, 15s));
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, 6s);
  EXPECT_FALSE(src.status().last_error.empty());
  src.stop();
  close(fd);
}

}  // namespace
}  // namespace gms::test
