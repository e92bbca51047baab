#!/usr/bin/env bash
# Origin CPU with no edge, 1 edge and 2 edges pulling /live/cam1 (a 720p 3 Mbit/s
# publisher; each edge a pattern proxy with 5 TCP viewers), over loopback, 10 s each.
#   tests/scale/origin_load.sh      (GMS_BUILD_DIR: the build directory)
B=${GMS_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}/src/gst-mediaserver
D=$(mktemp -d)
cpu() { awk '{print $14+$15}' /proc/$1/stat; }
$B -a 127.0.0.1 -p 29554 --http-port 29080 --publish '/live/*' > $D/o.log 2>&1 & O=$!
sleep 1
timeout 100 gst-launch-1.0 -q videotestsrc is-live=true ! video/x-raw,width=1280,height=720,framerate=30/1 ! x264enc tune=zerolatency speed-preset=ultrafast bitrate=3000 key-int-max=60 ! rtspclientsink protocols=tcp location=rtsp://127.0.0.1:29554/live/cam1 > $D/p.log 2>&1 & PUB=$!
sleep 3
for e in 1 2; do
  cat > $D/e$e.conf <<EOC
[server]
port=2955$((4+e))
http-port=2908$e
[path /live/*]
proxy=rtsp://127.0.0.1:29554/\$path
backend-transport=tcp
EOC
done
measure() {
  local a=$(cpu $O); sleep 10; local b=$(cpu $O)
  echo "$1: origin CPU $(( (b - a) )) ticks in 10 s = $(awk -v t=$((b-a)) 'BEGIN{printf "%.1f", t/10}') % of a core; origin sessions $(curl -s http://127.0.0.1:29080/metrics | awk '/^gms_sessions /{print $2}')"
}
measure "0 edges (publisher only)"
V=()
$B -a 127.0.0.1 $D/e1.conf > $D/e1.log 2>&1 & E1=$!
sleep 1
for i in 1 2 3 4 5; do timeout 80 gst-launch-1.0 -q rtspsrc location=rtsp://127.0.0.1:29555/live/cam1 protocols=tcp ! fakesink > /dev/null 2>&1 & V+=($!); done
sleep 3; measure "1 edge, 5 viewers on it"
$B -a 127.0.0.1 $D/e2.conf > $D/e2.log 2>&1 & E2=$!
sleep 1
for i in 1 2 3 4 5; do timeout 60 gst-launch-1.0 -q rtspsrc location=rtsp://127.0.0.1:29556/live/cam1 protocols=tcp ! fakesink > /dev/null 2>&1 & V+=($!); done
sleep 3; measure "2 edges, 5 viewers on each"
kill ${V[@]} $PUB $E1 $E2 $O 2>/dev/null; wait 2>/dev/null; rm -rf $D
