// The scenarios of `./test.sh --bench`, each gst-mediaserver beside the
// stock gst-rtsp-server program doing the same job (stock_server.cpp), in
// the same run; each writes its rows (bench_results.h). Return 0 when every
// side ran, 1 when one could not start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gms::test {

int bench_fanout();  // one published 3 Mbit/s stream to N UDP / TCP viewers
int bench_proxy();   // latency a relay of a back end adds, idle and loaded
int bench_files();   // file sessions per second, concurrent file viewers
int bench_record();  // CPU of recording the published stream

// Helpers shared by the scenarios.
// DESCRIBE of url answered 200 (retried until timeout_ms).
bool wait_describable(uint16_t port, const std::string& url, unsigned timeout_ms = 20000);
// Server CPU over `seconds`, % of one core.
double cpu_percent_over(int pid, double seconds);
// ffmpeg publishing `clip` in a loop in real time (stream copy) to url.
std::vector<std::string> clip_publisher(const std::string& clip, const std::string& url);
// Comma-separated counts from an environment variable, else `fallback`.
std::vector<unsigned> counts_from_env(const char* name, std::vector<unsigned> fallback);

}  // namespace gms::test
