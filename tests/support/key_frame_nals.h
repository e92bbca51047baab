// The NAL units of one H.264 or H.265 key frame (parameter sets, SEI and
// the picture), encoded by ffmpeg at 64x64: what a raw publisher sends so
// that its path has a key frame (the GOP cache and the recorder start at
// one). Empty when ffmpeg could not make them.
#pragma once

#include <string>
#include <vector>

namespace gms::test {

std::vector<std::string> key_frame_nals(bool h265);

}  // namespace gms::test
