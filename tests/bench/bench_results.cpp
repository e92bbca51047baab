#include "bench_results.h"

#include <json-glib/json-glib.h>

#include <algorithm>
#include <cstdio>

#include "gms/ref.h"
#include "process.h"

namespace gms::test {

void BenchResults::add(BenchRow row) {
  auto fmt = [](const std::optional<double>& v) {
    return v ? g_strdup_printf("%.3f", *v) : g_strdup("-");
  };
  GCharPtr o(fmt(row.ours)), s(fmt(row.stock));
  GCharPtr l(fmt(row.live555));
  printf("%-8s %-52s ours %10s  stock %10s  live555 %8s  %s %s\n", scenario_.c_str(),
         row.metric.c_str(), o.get(), s.get(), l.get(), row.unit.c_str(), row.note.c_str());
  fflush(stdout);
  rows_.push_back(std::move(row));
}

bool BenchResults::write() const {
  auto b = Ref<JsonBuilder>::adopt(json_builder_new());
  json_builder_begin_object(b.get());
  json_builder_set_member_name(b.get(), "scenario");
  json_builder_add_string_value(b.get(), scenario_.c_str());
  json_builder_set_member_name(b.get(), "full");
  json_builder_add_boolean_value(b.get(), bench_full());
  json_builder_set_member_name(b.get(), "rows");
  json_builder_begin_array(b.get());
  for (const auto& r : rows_) {
    json_builder_begin_object(b.get());
    json_builder_set_member_name(b.get(), "metric");
    json_builder_add_string_value(b.get(), r.metric.c_str());
    json_builder_set_member_name(b.get(), "unit");
    json_builder_add_string_value(b.get(), r.unit.c_str());
    json_builder_set_member_name(b.get(), "better");
    json_builder_add_string_value(b.get(), r.lower_is_better ? "lower" : "higher");
    for (auto [name, v] : {std::pair{"ours", &r.ours}, std::pair{"stock", &r.stock}}) {
      json_builder_set_member_name(b.get(), name);
      if (*v)
        json_builder_add_double_value(b.get(), **v);
      else
        json_builder_add_null_value(b.get());
    }
    if (r.live555) {
      json_builder_set_member_name(b.get(), "live555");
      json_builder_add_double_value(b.get(), *r.live555);
    }
    json_builder_set_member_name(b.get(), "note");
    json_builder_add_string_value(b.get(), r.note.c_str());
    json_builder_end_object(b.get());
  }
  json_builder_end_array(b.get());
  json_builder_end_object(b.get());
  auto gen = Ref<JsonGenerator>::adopt(json_generator_new());
  JsonNode* root = json_builder_get_root(b.get());
  json_generator_set_root(gen.get(), root);
  json_generator_set_pretty(gen.get(), TRUE);
  json_node_unref(root);
  const char* dir = g_getenv("GMS_BENCH_RESULTS_DIR");
  std::string d = dir ? dir : build_path("bench");
  g_mkdir_with_parents(d.c_str(), 0755);
  std::string path = d + "/" + scenario_ + ".json";
  if (!json_generator_to_file(gen.get(), path.c_str(), nullptr)) {
    fprintf(stderr, "cannot write %s\n", path.c_str());
    return false;
  }
  printf("results: %s\n", path.c_str());
  return true;
}

bool bench_full() {
  const char* f = g_getenv("GMS_BENCH_FULL");
  return f && *f && std::string(f) != "0";
}

double quantile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

}  // namespace gms::test
