// The command line: live555-style scripts pass whatever they pass. The
// input is split at NUL bytes into arguments.
#include <gst-mediaserver/config.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::vector<std::string> args{"gst-mediaserver"};
  std::string cur;
  for (size_t i = 0; i < size && args.size() < 64; ++i) {
    if (data[i] == 0) {
      args.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty())
    args.push_back(std::move(cur));
  std::vector<const char*> argv;
  for (const auto& a : args)
    argv.push_back(a.c_str());
  argv.push_back(nullptr);
  try {
    gms::CliOptions o = gms::CliOptions::parse(static_cast<int>(args.size()), argv.data());
    gms::Config cfg;
    cfg.apply(o);
  } catch (const gms::ConfigError& e) {
    for (const auto& issue : e.issues())
      (void)issue.to_string();
  }
  return 0;
}
