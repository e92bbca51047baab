#include "http/dashboard.h"

#include <gio/gio.h>

#include "gms-dashboard.h"  // generated from data/dashboard

namespace gms::http {
namespace {

constexpr char kPrefix[] = "/org/gst-mediaserver/dashboard/";

const char* type_of(const std::string& name) {
  if (name.ends_with(".html"))
    return "text/html; charset=utf-8";
  if (name.ends_with(".js"))
    return "text/javascript; charset=utf-8";
  if (name.ends_with(".css"))
    return "text/css; charset=utf-8";
  return "application/octet-stream";
}

}  // namespace

std::optional<DashboardFile> dashboard_file(const std::string& path) {
  std::string name;
  if (path == "/" || path == "/index.html")
    name = "index.html";
  else if (path.rfind("/dashboard/", 0) == 0)
    name = path.substr(sizeof "/dashboard/" - 1);
  // Only the files of the resource itself: no directories, no "..".
  if (name.empty() || name.find('/') != std::string::npos)
    return std::nullopt;
  GBytes* bytes = g_resource_lookup_data(gms_dashboard_get_resource(), (kPrefix + name).c_str(),
                                         G_RESOURCE_LOOKUP_FLAGS_NONE, nullptr);
  if (!bytes)
    return std::nullopt;
  return DashboardFile{bytes, type_of(name)};
}

}  // namespace gms::http
