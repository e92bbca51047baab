// The dashboard's files (data/dashboard, compiled into the library as a
// GResource): GET / is its page, /dashboard/NAME its script and style.
#pragma once

#include <optional>
#include <string>

typedef struct _GBytes GBytes;

namespace gms::http {

struct DashboardFile {
  GBytes* bytes = nullptr;  // owned by the caller: g_bytes_unref
  const char* content_type = "";
};

// The file for a request path ("/", "/dashboard/dashboard.js"); nullopt
// for anything else.
std::optional<DashboardFile> dashboard_file(const std::string& path);

}  // namespace gms::http
