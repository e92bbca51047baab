// The retention sweeper's policy (file names and times in, victims out), the
// directories it finds for plain and pattern paths, and one sweep on disk.
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst-mediaserver/config.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "gms/ref.h"
#include "record/retention.h"
#include "segment_policy.h"

namespace gms::record {
namespace {

constexpr gint64 kS = G_USEC_PER_SEC;
constexpr gint64 kNow = 1'800'000'000 * kS;

// A segment that started `age` s before kNow, last written `written` s
// before kNow, of `bytes`.
SegmentOnDisk seg(const std::string& name, gint64 age, gint64 written, guint64 bytes) {
  return {name, "/r/cam/" + name, kNow - age * kS, kNow - written * kS, bytes};
}

TEST(Retention, PolicyTable) {
  struct Case {
    const char* what;
    std::vector<SegmentOnDisk> segments;  // oldest first
    RetentionRule rule;
    bool writing;
    std::vector<std::string> victims;
  };
  const std::vector<Case> cases = {
      {"no limits: nothing", {seg("a", 900, 840, 10)}, {"/cam", 0, 0}, false, {}},
      {"by age, from the name",
       {seg("a", 900, 840, 10), seg("b", 400, 340, 10), seg("c", 100, 40, 10)},
       {"/cam", 300, 0},
       false,
       {"/r/cam/a", "/r/cam/b"}},
      {"age: the newest goes too when nothing writes it",
       {seg("a", 900, 840, 10), seg("b", 800, 740, 10)},
       {"/cam", 300, 0},
       false,
       {"/r/cam/a", "/r/cam/b"}},
      {"age: never the one a recorder writes",
       {seg("a", 900, 840, 10), seg("b", 800, 740, 10)},
       {"/cam", 300, 0},
       true,
       {"/r/cam/a"}},
      {"age: never one written to just now",
       {seg("a", 900, 840, 10), seg("b", 800, 1, 10)},
       {"/cam", 300, 0},
       false,
       {"/r/cam/a"}},
      {"by size, oldest first, open one counted",
       {seg("a", 50, 40, 100), seg("b", 40, 30, 100), seg("c", 30, 20, 100), seg("d", 20, 0, 100)},
       {"/cam", 0, 250},
       true,
       {"/r/cam/a", "/r/cam/b"}},
      {"size: the open one alone over the cap stays",
       {seg("a", 50, 40, 100), seg("b", 10, 0, 1000)},
       {"/cam", 0, 500},
       true,
       {"/r/cam/a"}},
      {"age and size together",
       {seg("a", 900, 840, 10), seg("b", 60, 50, 300), seg("c", 40, 30, 300), seg("d", 10, 0, 300)},
       {"/cam", 300, 700},
       true,
       {"/r/cam/a", "/r/cam/b"}},
      {"age: from the last write (a long segment that ended lately stays)",
       {seg("a", 900, 840, 10), seg("b", 900, 100, 10), seg("c", 50, 40, 10)},
       {"/cam", 300, 0},
       false,
       {"/r/cam/a"}},
      {"empty directory", {}, {"/cam", 1, 1}, false, {}},
  };
  for (const auto& c : cases)
    EXPECT_EQ(retention_victims(c.segments, kNow, c.rule, c.writing), c.victims) << c.what;
}

TEST(Retention, PlanFromConfig) {
  GCharPtr dir(g_dir_make_tmp("gms-retention-XXXXXX", nullptr));
  Config cfg = Config::from_data(
      "[server]\nrecord-dir=" + std::string(dir.get()) + "/\n"
      "[path /cam]\nproxy=rtsp://h/x\ndelete-after=60\n"
      "[path /live/*]\npublish=true\nmax-bytes=1000\n"
      "[path /keep]\nproxy=rtsp://h/y\n",
      "test");
  RetentionPlan plan = plan_retention(cfg, {"/cam"});
  EXPECT_EQ(plan.record_dir, dir.get());
  g_rmdir(dir.get());
  ASSERT_EQ(plan.rules.size(), 2u);  // /keep has no limit
  EXPECT_EQ(plan.rules[0].name, "/cam");
  EXPECT_EQ(plan.rules[0].delete_after, 60u);
  EXPECT_EQ(plan.rules[1].name, "/live/*");
  EXPECT_EQ(plan.rules[1].max_bytes, 1000u);
  EXPECT_EQ(plan.writing.count("/cam"), 1u);
  Config none = Config::from_data("[path /cam]\nproxy=rtsp://h/x\ndelete-after=60\n", "test");
  EXPECT_TRUE(plan_retention(none, {}).rules.empty());  // nothing records
}

class RetentionDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    GCharPtr d(g_dir_make_tmp("gms-retention-XXXXXX", nullptr));
    ASSERT_TRUE(d);
    dir_ = d.get();
  }
  void TearDown() override {
    GCharPtr cmd(g_strdup_printf("rm -rf '%s'", dir_.c_str()));
    ASSERT_EQ(system(cmd.get()), 0);
  }
  // A segment of `path` that started `age` s ago (its name says when).
  std::string make(const std::string& path, gint64 age, size_t bytes = 100) {
    std::string d = dir_ + path;
    g_mkdir_with_parents(d.c_str(), 0755);
    std::string name =
        SegmentPolicy::format_location("%Y-%m-%d_%H-%M-%S-%f.mp4", "", g_get_real_time() - age * kS);
    std::string file = d + "/" + name;
    std::ofstream(file) << std::string(bytes, 'x');
    // Written when it would have been: only the newest is ever recent.
    gint64 written = (g_get_real_time() - (age - 1) * kS) / kS;
    GCharPtr cmd(g_strdup_printf("touch -d @%" G_GINT64_FORMAT " '%s'", written, file.c_str()));
    EXPECT_EQ(system(cmd.get()), 0);
    return file;
  }
  std::string dir_;
};

TEST_F(RetentionDisk, PatternPathsEachOnTheirOwn) {
  const std::vector<RetentionRule> rules = {{"/live/*", 0, 150}, {"/live/vip", 0, 0},
                                            {"/live/deep/*", 30, 0}};
  make("/live/a", 50);
  make("/live/a/b", 50);
  make("/live/vip", 50);
  make("/live/deep/x", 50);
  g_mkdir_with_parents((dir_ + "/elsewhere").c_str(), 0755);
  std::vector<std::string> paths = retention_paths(dir_, rules[0], rules);
  std::sort(paths.begin(), paths.end());
  // /live/vip has its own rule, /live/deep/x the longer pattern's.
  EXPECT_EQ(paths, (std::vector<std::string>{"/live/a", "/live/a/b", "/live/deep"}));
  EXPECT_EQ(retention_paths(dir_, rules[1], rules), std::vector<std::string>{"/live/vip"});
  EXPECT_EQ(retention_paths(dir_, rules[2], rules), std::vector<std::string>{"/live/deep/x"});
  RetentionRule all{"/*", 1, 0};
  EXPECT_EQ(retention_paths(dir_, all, {all}).size(), 7u);  // every directory, also /elsewhere
}

TEST_F(RetentionDisk, SweepDeletesOldAndOverSizeOnly) {
  std::string old1 = make("/cam", 400), old2 = make("/cam", 350), fresh = make("/cam", 5);
  std::string a1 = make("/live/a", 60), a2 = make("/live/a", 40), a3 = make("/live/a", 20);
  std::string b1 = make("/live/b", 60);
  RetentionPlan plan;
  plan.record_dir = dir_;
  plan.rules = {{"/cam", 300, 0}, {"/live/*", 0, 250}};
  EXPECT_EQ(sweep_retention(plan, g_get_real_time()), 3u);
  for (const auto& gone : {old1, old2, a1})
    EXPECT_FALSE(g_file_test(gone.c_str(), G_FILE_TEST_EXISTS)) << gone;
  for (const auto& kept : {fresh, a2, a3, b1})
    EXPECT_TRUE(g_file_test(kept.c_str(), G_FILE_TEST_EXISTS)) << kept;
  // Other files in the directory are not segments and stay.
  std::ofstream(dir_ + "/cam/notes.txt") << "x";
  EXPECT_EQ(sweep_retention(plan, g_get_real_time()), 0u);
  EXPECT_TRUE(g_file_test((dir_ + "/cam/notes.txt").c_str(), G_FILE_TEST_EXISTS));
}

// The sweeper on a context: it sweeps at once, then on its timer, and
// reads the plan anew each time.
TEST_F(RetentionDisk, SweeperRunsAtStartAndOnItsTimer) {
  auto ctx = Ref<GMainContext>::adopt(g_main_context_new());
  std::string first = make("/cam", 400);
  int plans = 0;
  RetentionSweeper sweeper(
      ctx.get(),
      [&] {
        ++plans;
        RetentionPlan p;
        p.record_dir = dir_;
        p.rules = {{"/cam", 300, 0}};
        return p;
      },
      std::chrono::milliseconds(100));
  auto until = [&](auto done) {
    gint64 deadline = g_get_monotonic_time() + 10 * kS;
    while (!done() && g_get_monotonic_time() < deadline)
      g_main_context_iteration(ctx.get(), FALSE), g_usleep(1000);
    return done();
  };
  EXPECT_TRUE(until([&] { return !g_file_test(first.c_str(), G_FILE_TEST_EXISTS); }));
  std::string later = make("/cam", 500);
  EXPECT_TRUE(until([&] { return !g_file_test(later.c_str(), G_FILE_TEST_EXISTS); }));
  EXPECT_GE(plans, 2);
}

}  // namespace
}  // namespace gms::record
