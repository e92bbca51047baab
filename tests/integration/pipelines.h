// Launch lines the integration tests serve: small and cheap to encode.
#pragma once

namespace gms::test {

inline const char kH264Opus[] =
    "videotestsrc is-live=true ! video/x-raw,width=320,height=240,framerate=30/1 ! "
    "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
    "rtph264pay name=pay0 pt=96 config-interval=-1 "
    "audiotestsrc is-live=true ! audioconvert ! opusenc ! rtpopuspay name=pay1 pt=97";

inline const char kMjpeg[] =
    "videotestsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=15/1 ! "
    "jpegenc ! rtpjpegpay name=pay0 pt=26";

}  // namespace gms::test
