#!/bin/bash
# Soak: churn on every kind of path for MINUTES (default 10), then checks
# that the server's descriptors, threads, sessions and memory are back near
# where they were once the clients have left. Not part of ./test.sh.
#
#   tests/faults/soak.sh [MINUTES] [BUILD_DIR]
#
# GMS_SOAK_KEEP_SERVER=1 leaves the server running at the end, for a
# profiler attached to it (its pid is in WORK/server.pid from the start):
# what it holds after the churn can then be read before any cleanup.
#
# What runs, all on 127.0.0.1, every loop bounded in time:
# - viewers coming and going (ffmpeg, 2 s each, UDP and TCP in turn) on a
#   shared launch path, a per-viewer launch path, a proxied path, a
#   published path, a file and a recorded launch path;
# - a publisher that disconnects and reconnects (I05: 30 times, spread over
#   the run, recorded: every segment must open with ffprobe);
# - the proxied path's origin (a second server) killed with SIGKILL and
#   started again (H05: 50 times over the run, at most every 6 s);
# - the HTTP API polled once a second (paths, sessions, metrics), as a
#   dashboard or a monitoring system does; every answer must be 200.
# Figures: fds, threads, RSS (KiB) and sessions at the baseline (after a
# warm-up round) and at the end, CPU seconds used, clients run.
set -u
MINUTES=${1:-10}
BUILD=${2:-$(dirname "$0")/../../build}
BIN=$BUILD/src/gst-mediaserver
[ -x "$BIN" ] || { echo "no server binary at $BIN" >&2; exit 2; }
export GST_PLUGIN_PATH_1_0=$BUILD/plugins${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}
WORK=$(mktemp -d /tmp/gms-soak.XXXXXX)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  [ -n "${ORIGIN:-}" ] && kill -9 "$ORIGIN" 2>/dev/null
  if [ -n "${SERVER:-}" ] && [ -n "${GMS_SOAK_KEEP_SERVER:-}" ]; then
    disown "$SERVER" 2>/dev/null
    echo "server left running (GMS_SOAK_KEEP_SERVER): pid $SERVER"
  elif [ -n "${SERVER:-}" ]; then
    kill "$SERVER" 2>/dev/null
  fi
  wait 2>/dev/null
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P=$(port); OP=$(port); HP=$(port)
MJPEG='videotestsrc is-live=true ! video/x-raw,format=I420,width=160,height=120,framerate=15/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26'
H264='videotestsrc is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! rtph264pay name=pay0 pt=96 config-interval=-1'
mkdir -p "$WORK/media" "$WORK/rec"
ffmpeg -hide_banner -loglevel error -nostdin -f lavfi -i testsrc=size=160x120:rate=15:duration=20 \
  -c:v libx264 -preset ultrafast -g 15 -pix_fmt yuv420p "$WORK/media/clip.mp4" || exit 2

cat > "$WORK/origin.conf" <<EOC
[server]
session-timeout=5
[path /o]
launch=$MJPEG
EOC
cat > "$WORK/soak.conf" <<EOC
[server]
session-timeout=5
record-dir=$WORK/rec
[path /shared]
record=false
launch=$MJPEG
[path /own]
record=false
shared=false
launch=$MJPEG
[path /proxy]
record=false
proxy=rtsp://127.0.0.1:$OP/o
[path /live]
publish=true
segment-duration=2
[path /vod]
record=false
root=$WORK/media
[path /rec]
record=true
segment-duration=5
launch=$H264
EOC

start_origin() {
  "$BIN" -a 127.0.0.1 -p "$OP" --http-port 0 "$WORK/origin.conf" >>"$WORK/origin.log" 2>&1 &
  ORIGIN=$!
}
start_origin
"$BIN" -a 127.0.0.1 -p "$P" --http-port "$HP" "$WORK/soak.conf" >"$WORK/server.log" 2>&1 &
SERVER=$!
echo "$SERVER" >"$WORK/server.pid"
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$HP/metrics" >/dev/null && break
  sleep 0.2
done
kill -0 "$SERVER" || { echo "server did not start"; tail "$WORK/server.log"; exit 1; }

fds() { ls /proc/"$SERVER"/fd 2>/dev/null | wc -l; }
# What the descriptors are: sockets, pipes, files (by directory), counted.
fd_kinds() {
  for f in /proc/"$SERVER"/fd/*; do readlink "$f"; done 2>/dev/null |
    sed -e 's/\[[0-9]*\]//' -e 's|^\(/.*\)/[^/]*$|\1/|' | sort | uniq -c | tr '\n' ';'
}
# Threads, but for the key-frame replay thread (one for the process's life)
# and the memory trim's (a moment each minute).
threads() { grep -L -e '^gms-gop-replay$' -e '^gms-trim$' -e '^gms-dropped$' /proc/"$SERVER"/task/*/comm 2>/dev/null | wc -l; }
rss() { awk '/^VmRSS/ {print $2}' /proc/"$SERVER"/status; }
# The private memory alone (heap, arenas, stacks): RSS also counts the
# pages of the shared libraries as the run first reaches their code.
anon() { awk '/^Anonymous/ {print $2}' /proc/"$SERVER"/smaps_rollup 2>/dev/null; }
# Where the private memory is: the main heap, thread stacks (mappings of
# 8 MiB), and malloc's other arenas and the rest (KiB resident each).
anon_parts() {
  awk '/^[0-9a-f]+-[0-9a-f]+ / { name = $6 } /^Size:/ { kib = $2 }
       /^Anonymous:/ { if (name == "[heap]") h += $2; else if (kib == 8192) t += $2; else o += $2 }
       END { printf "heap %d stacks %d other %d", h, t, o }' /proc/"$SERVER"/smaps 2>/dev/null
}
cpu() { awk '{printf "%.1f", ($14 + $15) / 100}' /proc/"$SERVER"/stat; }
metric() { curl -sf "http://127.0.0.1:$HP/metrics" | awk -v m="$1" '$1 == m {print $2}'; }
figures() { echo "fds $(fds) threads $(threads) rss_kib $(rss) anon_kib $(anon) ($(anon_parts)) sessions $(metric gms_sessions) connections $(metric gms_connections) cpu_s $(cpu)"; }

PATHS=(/shared /own /proxy /live /vod/clip.mp4 /rec)
VIEWERS=0
# ffmpeg acts on a first SIGTERM only between packets: a viewer that gets
# none and no end of stream (twice in a 20-minute run: a UDP viewer of
# /live and one of /proxy, their sources gone) polled on for good and held
# the soak up; it is killed 5 s later (exit 137, counted below).
view() {  # PATH TRANSPORT
  timeout -k 5 8 ffmpeg -hide_banner -loglevel error -nostdin -rtsp_transport "$2" \
    -i "rtsp://127.0.0.1:$P$1" -t 2 -f null - >/dev/null 2>&1
}
publish() {  # SECONDS
  timeout $(($1 + 10)) ffmpeg -hide_banner -loglevel error -nostdin -re -f lavfi \
    -i "testsrc=size=160x120:rate=15:duration=$1" -c:v libx264 -preset ultrafast -tune zerolatency \
    -g 15 -pix_fmt yuv420p -f rtsp -rtsp_transport tcp "rtsp://127.0.0.1:$P/live" >/dev/null 2>&1
}

# Warm-up: one round of every kind, so that what lives as long as the
# process (pools, caches) is in the baseline.
publish 6 & PUB=$!
sleep 2
for p in "${PATHS[@]}"; do view "$p" tcp; view "$p" udp; done
wait $PUB
sleep 7
BASE_FDS=$(fds); BASE_THREADS=$(threads); BASE_RSS=$(rss); BASE_KINDS=$(fd_kinds)
ss -tuanp 2>/dev/null | grep "pid=$SERVER," >"$WORK/sockets-baseline.txt"
echo "baseline: fds $BASE_FDS threads $BASE_THREADS rss_kib $BASE_RSS anon_kib $(anon) sessions $(metric gms_sessions) cpu_s $(cpu)   (load: $(cut -d' ' -f1-3 /proc/loadavg))"

END=$(( $(date +%s) + MINUTES * 60 ))
RUN_S=$((MINUTES * 60))
# Publisher: 30 sessions over the run (I05), each about run/30 s long.
(
  per=$(( RUN_S / 30 > 4 ? RUN_S / 30 - 2 : 2 ))
  for i in $(seq 30); do
    [ "$(date +%s)" -ge "$END" ] && break
    publish "$per"
    echo "publisher $i" >>"$WORK/events"
    sleep 1
  done
) & PIDS+=($!)
# Origin churn (H05): 50 kills over the run, at most every 6 s.
(
  gap=$(( RUN_S / 50 > 6 ? RUN_S / 50 : 6 ))
  for i in $(seq 50); do
    sleep "$gap"
    [ "$(date +%s)" -ge "$END" ] && break
    kill -9 "$ORIGIN" 2>/dev/null; wait "$ORIGIN" 2>/dev/null
    sleep 1
    start_origin
    echo "origin $i" >>"$WORK/events"
  done
  # The origin stays up at the end, for the check below.
  kill -0 "$ORIGIN" 2>/dev/null || start_origin
  echo "$ORIGIN" >"$WORK/origin.pid"
) & PIDS+=($!)
# The API, once a second, as a dashboard and a scraper would ask it.
(
  while [ "$(date +%s)" -lt "$END" ]; do
    for u in api/v1/paths api/v1/sessions metrics; do
      code=$(curl -s -o /dev/null -m 5 -w '%{http_code}' "http://127.0.0.1:$HP/$u")
      echo "api $u $code" >>"$WORK/api"
    done
    sleep 1
  done
) & PIDS+=($!)
# Viewers: 4 at a time, every kind of path, UDP and TCP in turn.
for w in 1 2 3 4; do
  (
    n=0
    while [ "$(date +%s)" -lt "$END" ]; do
      p=${PATHS[$(( (n + w) % ${#PATHS[@]} ))]}
      t=$([ $(( (n + w) / ${#PATHS[@]} % 2 )) -eq 0 ] && echo tcp || echo udp)
      view "$p" "$t"
      echo "viewer $p $t $?" >>"$WORK/events"
      n=$((n + 1))
    done
  ) & PIDS+=($!)
done
while [ "$(date +%s)" -lt "$END" ]; do
  sleep 60
  kill -0 "$SERVER" 2>/dev/null || break
  echo "$(date -u +%H:%M:%S) $(figures)   (load: $(cut -d' ' -f1-3 /proc/loadavg))"
done
wait "${PIDS[@]}" 2>/dev/null
PIDS=()
[ -f "$WORK/origin.pid" ] && ORIGIN=$(cat "$WORK/origin.pid")
kill -0 "$SERVER" 2>/dev/null || { echo "FAIL: the server died"; tail -30 "$WORK/server.log"; exit 1; }

# The viewers got frames after the last restart of the origin (H05).
sleep 3
view /proxy tcp; PROXY_AFTER=$?
# Session timeout (5 s) and 5 s more, then the end figures.
sleep 10
END_FDS=$(fds); END_THREADS=$(threads); END_RSS=$(rss); END_SESSIONS=$(metric gms_sessions)
ss -tuanp 2>/dev/null | grep "pid=$SERVER," >"$WORK/sockets-end.txt"
echo "descriptors at the baseline: $BASE_KINDS"
echo "descriptors at the end:      $(fd_kinds)"
echo "sockets (ss) at the baseline and the end: $WORK/sockets-baseline.txt, $WORK/sockets-end.txt"
echo "end:      fds $END_FDS threads $END_THREADS rss_kib $END_RSS anon_kib $(anon) sessions $END_SESSIONS cpu_s $(cpu)   (load: $(cut -d' ' -f1-3 /proc/loadavg))"
VIEWS=$(grep -c '^viewer' "$WORK/events"); FAILED=$(grep -c '^viewer .* [1-9][0-9]*$' "$WORK/events")
# A viewer of /live finds no publisher between two of its sessions, one of
# /proxy may come while the origin is down: failures by path and transport.
echo "viewers that did not exit 0, by path and transport:"
grep '^viewer .* [1-9][0-9]*$' "$WORK/events" | awk '{print "  " $2, $3}' | sort | uniq -c
echo "viewers run: $VIEWS ($FAILED did not exit 0; $(grep -c '^viewer .* 137$' "$WORK/events") killed, deaf to SIGTERM), publisher sessions: $(grep -c '^publisher' "$WORK/events"), origin restarts: $(grep -c '^origin' "$WORK/events")"
SEGS=0; BAD=0
for f in "$WORK"/rec/live/*; do
  [ -f "$f" ] || continue
  SEGS=$((SEGS + 1))
  ffprobe -v error "$f" >/dev/null 2>&1 || { BAD=$((BAD + 1)); echo "unplayable segment: $f"; }
done
echo "segments of /live: $SEGS ($BAD unplayable)"
API_CALLS=$(wc -l <"$WORK/api"); API_BAD=$(grep -vc ' 200$' "$WORK/api")
echo "API requests: $API_CALLS ($API_BAD not answered 200)"
echo "CRITICAL/ERROR lines in the server log: $(grep -c 'CRITICAL' "$WORK/server.log") / $(grep -c 'ERROR' "$WORK/server.log")"

status=0
check() { if eval "$1"; then echo "ok:   $2"; else echo "FAIL: $2"; status=1; fi; }
check "[ $END_FDS -le $((BASE_FDS + 4)) ]" "fds $BASE_FDS -> $END_FDS (+4 allowed)"
check "[ $END_THREADS -le $((BASE_THREADS + 2)) ]" "threads $BASE_THREADS -> $END_THREADS (+2 allowed)"
check "[ \"$END_SESSIONS\" = 0 ]" "sessions back to 0 ($END_SESSIONS)"
# RSS: what a fresh server gains in its first minutes of churn with four
# clients at once (malloc's arenas for the new threads, caches that fill:
# +1.8 to +2.7 MiB in the first 5 minutes of two 20-minute runs, +0.5 MiB
# in the 15 after, most of it the 35 origin restarts), 1 MiB for where the
# end sample falls (the figures above move by +-0.4 MiB around their trend),
# and the target: 1 % of the baseline per hour of run. The leak of a
# socket per API request (libsoup 3.2, fixed) made +2.9 and +4.1 MiB in
# the two hours of a 120-minute run; an rtspsrc per back-end session (fixed)
# about 2 MiB an hour. Without the program's periodic malloc_trim a
# 30-minute run ended at +5.1 MiB (free memory kept in malloc's arenas),
# with it +3.3 MiB.
RSS_ALLOWED=$(( 3072 + 1024 + BASE_RSS * MINUTES / 6000 ))
check "[ $END_RSS -le $((BASE_RSS + RSS_ALLOWED)) ]" "RSS $BASE_RSS -> $END_RSS KiB (+$((END_RSS - BASE_RSS)) KiB; +$RSS_ALLOWED KiB allowed)"
check "[ $PROXY_AFTER -eq 0 ]" "the proxied path plays after the last origin restart"
check "[ $BAD -eq 0 ]" "every segment of the reconnecting publisher opens"
check "[ $API_BAD -eq 0 ]" "every API request answered 200 ($API_BAD of $API_CALLS not)"
check "! grep -q CRITICAL $WORK/server.log" "no CRITICAL in the server log"
echo "work directory: $WORK"
trap - EXIT
cleanup
exit $status
