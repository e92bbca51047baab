// Parsers for configuration values; each returns false and sets `reason`
// instead of throwing, so one pass can collect every problem.
#pragma once

#include <gst-mediaserver/config.h>

#include <cstdint>
#include <string>
#include <vector>

namespace gms {

bool parse_bool(const std::string& v, bool& out, std::string& reason);
bool parse_uint(const std::string& v, uint64_t min, uint64_t max, uint64_t& out,
                std::string& reason);
// rtsp://, rtsps://, rtspt://, rtsph:// URL with a host.
bool check_rtsp_url(const std::string& v, std::string& reason);
bool check_address(const std::string& v, std::string& reason);
bool parse_protocols(const std::string& v, unsigned& out, std::string& reason);
bool parse_ipv4_range(const std::string& v, std::string& min, std::string& max,
                      std::string& reason);
bool parse_port_range(const std::string& v, uint16_t& min, uint16_t& max, std::string& reason);
// check_path_name() is public: <gst-mediaserver/config.h>.
// A directory for recordings: made absolute against `base_dir`, created if
// missing, and it must take files.
bool check_record_dir(std::string& value, const std::string& base_dir, std::string& reason);
// A directory of media files: `value` made absolute against `base_dir` (the
// working directory when empty), which must exist and be readable.
bool resolve_root_dir(const std::string& value, const std::string& base_dir, std::string& out,
                      std::string& reason);
// Levenshtein nearest of `candidates` within distance 3, or empty.
std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates);
// The launch line without one pair of surrounding parentheses.
std::string strip_parentheses(const std::string& launch);

}  // namespace gms
