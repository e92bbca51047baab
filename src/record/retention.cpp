#include "record/retention.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <gst-mediaserver/config.h>

#include "core/log.h"
#include "gms/ref.h"

namespace gms::record {
namespace {

// A pattern's paths are directories below its prefix; deeper than this is
// not a name anyone publishes to, and a loop of bind mounts must end.
constexpr int kMaxDepth = 8;

bool is_pattern(const RetentionRule& r) { return !r.name.empty() && r.name.back() == '*'; }

// "/live/" for "/live/*".
std::string prefix_of(const RetentionRule& r) { return r.name.substr(0, r.name.size() - 1); }

// Whether a rule other than `rule` is meant for the path `served`: its own
// name, or a longer pattern that takes it.
bool covered_elsewhere(const std::string& served, const RetentionRule& rule,
                       const std::vector<RetentionRule>& rules) {
  const size_t own = prefix_of(rule).size();
  for (const auto& r : rules) {
    if (&r == &rule || r.name == rule.name)
      continue;
    if (!is_pattern(r) && r.name == served)
      return true;
    if (is_pattern(r) && prefix_of(r).size() > own && served.rfind(prefix_of(r), 0) == 0)
      return true;
  }
  return false;
}

bool real_directory(const std::string& path) {
  GStatBuf st;
  return g_lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// Every directory below `dir` (not `dir` itself) as record_dir-relative
// served names, depth first.
void walk(const std::string& record_dir, const std::string& served, int depth,
          std::vector<std::string>& out) {
  if (depth > kMaxDepth)
    return;
  auto d = UniquePtr<GDir, g_dir_close>(g_dir_open((record_dir + served).c_str(), 0, nullptr));
  if (!d)
    return;
  std::string base = served.empty() || served.back() != '/' ? served + "/" : served;
  while (const char* entry = g_dir_read_name(d.get())) {
    std::string child = base + entry;
    if (!real_directory(record_dir + child))
      continue;
    out.push_back(child);
    walk(record_dir, child, depth + 1, out);
  }
}

std::string strip_slash(std::string s) {
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return s;
}

struct SweepJob {
  RetentionPlan plan;
  std::shared_ptr<std::atomic<bool>> busy;
};

// GTask thread: the only place the sweeper touches the disk.
void run_sweep(GTask* task, gpointer, gpointer data, GCancellable*) noexcept {
  auto* job = static_cast<SweepJob*>(data);
  sweep_retention(job->plan, g_get_real_time());
  job->busy->store(false);
  g_task_return_boolean(task, TRUE);
}

}  // namespace

RetentionPlan plan_retention(const Config& config, std::set<std::string> writing) {
  RetentionPlan plan;
  plan.record_dir = strip_slash(config.server.record_dir);
  plan.writing = std::move(writing);
  if (plan.record_dir.empty())
    return plan;
  for (const auto& p : config.paths) {
    // The kinds that can record (by configuration or through the API).
    bool records = p.is_proxy() || p.publish || !p.launch.empty();
    if (records && (p.delete_after > 0 || p.max_bytes > 0))
      plan.rules.push_back({p.name, p.delete_after, p.max_bytes});
  }
  return plan;
}

std::vector<std::string> retention_victims(const std::vector<SegmentOnDisk>& segments,
                                           gint64 now_us, const RetentionRule& rule,
                                           bool writing) {
  if (segments.empty() || (rule.delete_after == 0 && rule.max_bytes == 0))
    return {};
  // Oldest first (`segments` is sorted by start). The newest may be the file
  // a recorder has open: deleting it would lose what the recorder goes on
  // writing into the unlinked file.
  const SegmentOnDisk& newest = segments.back();
  const bool newest_open = writing || now_us - newest.mtime_us < kRecentWriteUs;
  guint64 total = 0;
  for (const auto& s : segments)
    total += s.bytes;
  const gint64 max_age_us =
      gint64(std::min<guint64>(rule.delete_after, G_MAXINT64 / G_USEC_PER_SEC)) * G_USEC_PER_SEC;
  std::vector<std::string> victims;
  for (const auto& s : segments) {
    if (&s == &newest && newest_open)
      continue;
    // Its last write says when it ended: a segment holds footage up to then.
    const gint64 last_us = std::max(s.start_us, s.mtime_us);
    const bool too_old = rule.delete_after > 0 && now_us - last_us > max_age_us;
    const bool too_big = rule.max_bytes > 0 && total > rule.max_bytes;
    if (too_old || too_big) {
      victims.push_back(s.path);
      total -= s.bytes;
    }
  }
  return victims;
}

std::vector<std::string> retention_paths(const std::string& record_dir, const RetentionRule& rule,
                                         const std::vector<RetentionRule>& rules) {
  if (!is_pattern(rule))
    return {rule.name};
  std::vector<std::string> served;
  walk(record_dir, strip_slash(prefix_of(rule)) == "/" ? "" : strip_slash(prefix_of(rule)), 1,
       served);
  std::vector<std::string> out;
  for (const auto& s : served)
    if (!covered_elsewhere(s, rule, rules))
      out.push_back(s);
  return out;
}

unsigned sweep_retention(const RetentionPlan& plan, gint64 now_us) {
  unsigned deleted = 0;
  for (const auto& rule : plan.rules) {
    for (const auto& served : retention_paths(plan.record_dir, rule, plan.rules)) {
      auto segments = list_segments(plan.record_dir + served);
      for (const auto& path :
           retention_victims(segments, now_us, rule, plan.writing.count(served) > 0)) {
        if (g_unlink(path.c_str()) != 0 && errno != ENOENT) {
          GMS_LOG_WARN("retention (%s): cannot delete %s: %s", rule.name.c_str(), path.c_str(),
                       g_strerror(errno));
          continue;
        }
        ++deleted;
        GMS_LOG_INFO("retention (%s): deleted %s", rule.name.c_str(), path.c_str());
      }
    }
  }
  return deleted;
}

RetentionSweeper::RetentionSweeper(GMainContext* control, PlanSource plan,
                                   std::chrono::milliseconds interval)
    : plan_(std::move(plan)), busy_(std::make_shared<std::atomic<bool>>(false)) {
  control_ = Ref<GMainContext>::borrow(control);
  auto on_tick = [](gpointer self) noexcept -> gboolean {
    static_cast<RetentionSweeper*>(self)->tick();
    return G_SOURCE_CONTINUE;
  };
  // The first sweep at once: what an earlier run left goes at start.
  GSource* first = g_idle_source_new();
  g_source_set_callback(
      first,
      [](gpointer self) noexcept -> gboolean {
        static_cast<RetentionSweeper*>(self)->tick();
        return G_SOURCE_REMOVE;
      },
      this, nullptr);
  first_ = SourceHolder(first);
  g_source_attach(first, control);
  GSource* timer = g_timeout_source_new(guint(interval.count()));
  g_source_set_callback(timer, on_tick, this, nullptr);
  timer_ = SourceHolder(timer);
  g_source_attach(timer, control);
}

RetentionSweeper::~RetentionSweeper() = default;

void RetentionSweeper::tick() {
  if (busy_->exchange(true))
    return;  // the last sweep still runs (a slow disk)
  RetentionPlan plan = plan_();
  if (plan.rules.empty()) {
    busy_->store(false);
    return;
  }
  // The task finishes on the control context (a no-op there); it must not
  // land on whatever context is the global default.
  g_main_context_push_thread_default(control_.get());
  GTask* task = g_task_new(nullptr, nullptr, nullptr, nullptr);
  g_main_context_pop_thread_default(control_.get());
  g_task_set_task_data(task, new SweepJob{std::move(plan), busy_},
                       [](gpointer p) { delete static_cast<SweepJob*>(p); });
  g_task_run_in_thread(task, run_sweep);
  g_object_unref(task);
}

}  // namespace gms::record
