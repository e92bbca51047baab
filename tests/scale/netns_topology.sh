#!/usr/bin/env bash
# Scale-out topology in network namespaces: an origin, two edges with a
# pattern proxy, HAProxy (TCP mode, health checks on the edges' HTTP port), a
# publisher and viewers, each in a namespace of its own, joined by veth pairs
# on a bridge. Checks:
#   - the viewers are spread over both edges;
#   - the origin serves the stream once per edge, not once per viewer;
#   - a path the origin does not have is a 404 through the edge, at once;
#   - the SDP and Transport a UDP viewer gets name the edge's own address;
#   - kill -9 of one edge: its viewers reconnect through HAProxy to the
#     other edge and play again within the deadline;
#   - SIGTERM with drain-timeout: the health check fails, the edge stops
#     listening, its viewers stay until they leave.
# Exit 77 (skipped) where namespaces cannot be made (not root, no netns).
#   tests/scale/netns_topology.sh [VIEWERS]      (default 6)
# Environment: GMS_BUILD_DIR (the build directory), GMS_KEEP=1 keeps the logs.
set -uo pipefail

VIEWERS=${1:-6}
BUILD=${GMS_BUILD_DIR:-$(cd "$(dirname "$0")/../.." && pwd)/build}
SERVER=$BUILD/src/gst-mediaserver
RECOVERY_S=${GMS_RECOVERY_S:-2}  # after the viewers noticed, s
TEST_DEADLINE=$((SECONDS + 85))
P="gms$$"                        # namespace and link prefix, unique per run
NET=10.77.$(($$ % 200 + 20))     # a /24 of its own per run
WORK=$(mktemp -d /tmp/gms-scale.XXXXXX)
PIDS=()

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; dump_logs; exit 1; }
note() { printf '%6.1f s  %s\n' "$(elapsed)" "$*"; }
elapsed() { echo "$(( $(date +%s%N) / 1000000 - START_MS ))" | awk '{printf "%.1f", $1/1000}'; }
ns() { local n=$1; shift; ip netns exec "$P$n" "$@"; }

dump_logs() {
  for f in "$WORK"/*.log; do
    [[ -f $f ]] || continue
    echo "--- $(basename "$f") (last lines)"
    tail -n 15 "$f"
  done
}

cleanup() {
  for pid in "${PIDS[@]}"; do kill -9 "$pid" 2>/dev/null; done
  # Anything else still running in our namespaces (viewer loops' children).
  for n in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^$P"); do
    for pid in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$n" 2>/dev/null
  done
  if [[ ${GMS_KEEP:-0} == 1 ]]; then echo "logs in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

START_MS=$(( $(date +%s%N) / 1000000 ))

# --- can we? ---------------------------------------------------------------
[[ $(id -u) == 0 ]] || skip "network namespaces need root"
command -v ip >/dev/null || skip "no ip (iproute2)"
ip netns add "${P}probe" 2>/dev/null || skip "ip netns add is not allowed here"
ip netns del "${P}probe"
if ! command -v haproxy >/dev/null; then
  echo "haproxy missing: apt-get install haproxy"
  DEBIAN_FRONTEND=noninteractive timeout 120 apt-get install -y -q haproxy >/dev/null 2>&1 ||
    skip "haproxy is not installed and apt-get could not install it"
fi
[[ -x $SERVER ]] || fail "no server at $SERVER (set GMS_BUILD_DIR)"
for tool in gst-launch-1.0 curl; do command -v $tool >/dev/null || skip "no $tool"; done

# --- network: a bridge in namespace "sw", one veth per node ----------------
ip netns add "${P}sw" || fail "cannot add namespace"
ns sw ip link set lo up
ns sw ip link add br0 type bridge
ns sw ip link set br0 up
node=0
add_node() {  # NAME LAST-OCTET
  local name=$1 addr=$NET.$2
  node=$((node + 1))
  ip netns add "$P$name"
  ip link add "${P}a$node" type veth peer name "${P}b$node"
  ip link set "${P}a$node" netns "$P$name"
  ip link set "${P}b$node" netns "${P}sw"
  ns "$name" ip link set "${P}a$node" name eth0
  ns "$name" ip addr add "$addr/24" dev eth0
  ns "$name" ip link set eth0 up
  ns "$name" ip link set lo up
  ns sw ip link set "${P}b$node" master br0 up
}
ORIGIN=$NET.1 LB=$NET.2 PUB=$NET.3 E1=$NET.11 E2=$NET.12
add_node origin 1
add_node lb 2
add_node pub 3
add_node e1 11
add_node e2 12
for i in $(seq 1 "$VIEWERS"); do add_node "v$i" $((20 + i)); done
note "network: origin $ORIGIN, edges $E1 $E2, haproxy $LB, $VIEWERS viewers"

# --- origin, edges, haproxy -------------------------------------------------
start() {  # NAMESPACE LOG COMMAND...
  local n=$1 log=$2; shift 2
  ip netns exec "$P$n" "$@" >"$WORK/$log" 2>&1 &
  PIDS+=($!)
  echo $!
}
wait_for() {  # SECONDS WHAT COMMAND...: until COMMAND succeeds
  local limit=$1 end=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || fail "$what: not within $limit s"
    sleep 0.1
  done
}
cat >"$WORK/origin.conf" <<EOF
[server]
port=8554
http-port=8080
[path /live/*]
publish=true
EOF
# launch/edge.conf with the origin's address.
sed -e "s#rtsp://origin.example:8554#rtsp://$ORIGIN:8554#" \
  "$(dirname "$0")/../../launch/edge.conf" >"$WORK/edge.conf"
grep -q "$ORIGIN" "$WORK/edge.conf" || fail "launch/edge.conf has no origin URL to replace"
start origin origin.log "$SERVER" "$WORK/origin.conf" -v >/dev/null
E1_PID=$(start e1 e1.log "$SERVER" "$WORK/edge.conf" -v)
E2_PID=$(start e2 e2.log "$SERVER" "$WORK/edge.conf" -v)
for n in origin e1 e2; do wait_for 10 "$n up" ns $n curl -sf http://127.0.0.1:8080/api/v1/paths; done
health() { ns lb curl -s -o /dev/null -w '%{http_code}' "http://$1:8080/api/v1/health"; }
[[ $(health $E1) == 200 ]] || fail "edge 1's health check is not 200 from HAProxy's namespace"
# Without users, the rest of the API is for loopback only.
api() { ns lb curl -s -o /dev/null -w '%{http_code}' "$@"; }
[[ $(api "http://$E1:8080/api/v1/paths") == 403 ]] ||
  fail "edge 1 answers GET /api/v1/paths to another host, with no users"
[[ $(api -X DELETE "http://$E1:8080/api/v1/paths/live/x") == 403 ]] ||
  fail "edge 1 answers DELETE /api/v1/paths to another host, with no users"

cat >"$WORK/haproxy.cfg" <<EOF
global
  maxconn 2000
defaults
  mode tcp
  # A refused connection (a dead edge) is retried at once on another edge:
  # the turn-around before a retry is the connect timeout.
  timeout connect 200ms
  timeout client 60s
  timeout server 60s
  retries 1
  option redispatch 1
frontend rtsp
  bind $LB:8554
  default_backend edges
backend edges
  balance roundrobin
  option httpchk GET /api/v1/health
  http-check expect status 200
  default-server check port 8080 inter 200ms fall 1 rise 2
  server e1 $E1:8554
  server e2 $E2:8554
EOF
start lb haproxy.log haproxy -f "$WORK/haproxy.cfg" -db >/dev/null

# --- publisher ----------------------------------------------------------------
start pub pub.log timeout 80 gst-launch-1.0 -q videotestsrc is-live=true \
  ! video/x-raw,width=320,height=240,framerate=25/1 \
  ! x264enc tune=zerolatency speed-preset=ultrafast key-int-max=25 bitrate=500 \
  ! rtspclientsink protocols=tcp location="rtsp://$ORIGIN:8554/live/cam1" >/dev/null
json_num() {  # KEY: the first number after "KEY" in stdin
  python3 -c 'import sys,re; m=re.search(r"\"%s\"\s*:\s*(\d+)" % sys.argv[1], sys.stdin.read()); print(m.group(1) if m else 0)' "$1"
}
publishers() { ns origin curl -s http://127.0.0.1:8080/metrics | awk '/^gms_publishers /{print $2}'; }
wait_for 15 "the publisher" bash -c "[[ \$(ip netns exec ${P}origin curl -s http://127.0.0.1:8080/api/v1/paths) == *'\"live\" : true'* ]]"
note "publisher on the origin"

# --- a 404 through the edge, at once ----------------------------------------
t0=$(date +%s%N)
code=$(ns v1 timeout 8 gst-launch-1.0 rtspsrc location="rtsp://$LB:8554/live/nothing" ! fakesink 2>&1 |
  grep -c "Not Found (404)")
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
((code > 0)) || fail "a path the origin lacks is not 404 through the edge"
((ms < 3000)) || fail "the 404 took $ms ms"
note "404 for a path the origin lacks: $ms ms (gst-launch start to exit)"

# --- UDP: the SDP and Transport a viewer gets through HAProxy ---------------
probe=$(ns v1 timeout 10 python3 "$(dirname "$0")/rtsp_probe.py" "$LB" 8554 /live/cam1 2>&1 | tr -d '\r')
echo "$probe" | grep -E '^(o=|c=|Transport)' | sed 's/^/          /'
sdp_edge=$(echo "$probe" | grep -E '^o=' | grep -oE "$NET\.[0-9]+")
[[ $sdp_edge == "$E1" || $sdp_edge == "$E2" ]] || fail "the SDP names $sdp_edge, not an edge"
note "UDP: the SDP names the edge that answered ($sdp_edge), not HAProxy ($LB)"

# --- viewers --------------------------------------------------------------------
# Each viewer plays over TCP through HAProxy and starts again whenever its
# player ends (an edge that died), until the test's end. It logs when its
# player ended ("restart") and when media came again ("playing": the
# pipeline's stream-start, posted when the first packet reaches the sink).
viewer_loop() {  # LB END(epoch s)
  while (($(date +%s) < $2)); do
    echo "start $(date +%s.%N)"
    timeout $(($2 - $(date +%s) + 1)) gst-launch-1.0 -m rtspsrc location="rtsp://$1:8554/live/cam1" \
      protocols=tcp latency=0 tcp-timeout=2000000 ! fakesink sync=false 2>&1 |
      while read -r line; do
        [[ $line == *'(stream-start)'* ]] && echo "playing $(date +%s.%N)"
      done
    echo "restart $(date +%s.%N)"
    sleep 0.05
  done
}
export -f viewer_loop
END=$(($(date +%s) + 60))
for i in $(seq 1 "$VIEWERS"); do
  start "v$i" "v$i.log" bash -c "viewer_loop $LB $END" >/dev/null
done
# The readers of /live/cam1 in a server's /api/v1/paths (a configured path,
# or one listed under its pattern), 0 when absent.
path_viewers() {
  python3 -c '
import json, sys
def find(entries):
    for e in entries:
        if e.get("name") == "/live/cam1":
            return e.get("viewers", 0)
        for key in ("publishers", "paths"):  # under a pattern: publishers, proxied paths
            sub = e.get(key)
            found = find(sub) if isinstance(sub, list) else None
            if found is not None:
                return found
    return None
try:
    print(find(json.load(sys.stdin).get("paths", [])) or 0)
except ValueError:
    print(0)'
}
export -f path_viewers
viewers_on() { ns "$1" curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers; }
wait_for 20 "all viewers on the edges" bash -c "
  a=\$(ip netns exec ${P}e1 curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers)
  b=\$(ip netns exec ${P}e2 curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers)
  (( \${a:-0} + \${b:-0} >= $VIEWERS ))"
on1=$(viewers_on e1) on2=$(viewers_on e2)
note "viewers: edge 1 has $on1, edge 2 has $on2"
((on1 > 0 && on2 > 0)) || fail "the viewers are not spread over both edges ($on1, $on2)"

# The origin: one reader per edge, not per viewer.
origin_viewers=$(ns origin curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers)
origin_sessions=$(ns origin curl -s http://127.0.0.1:8080/metrics | awk '/^gms_sessions /{print $2}')
note "origin: $origin_viewers viewer session(s) of /live/cam1, $origin_sessions session(s) in all (publisher included)"
((origin_viewers == 2)) || fail "the origin serves $origin_viewers sessions for 2 edges and $VIEWERS viewers"

# --- kill -9 one edge ---------------------------------------------------------
sleep 1
kill_ms=$(( $(date +%s%N) / 1000000 ))
kill -9 "$E1_PID"
note "kill -9 edge 1 ($on1 viewers on it)"
wait_for 15 "the viewers back on edge 2" bash -c "
  b=\$(ip netns exec ${P}e2 curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers)
  (( \${b:-0} >= $VIEWERS ))"
back_ms=$(( $(date +%s%N) / 1000000 ))
# Each viewer that noticed (its player ended after the kill): from then to
# its next "playing".
recovery=$(for f in "$WORK"/v*.log; do
  awk -v k="$kill_ms" '$1 == "restart" && $2 * 1000 >= k && !r {r = $2}
    $1 == "playing" && r && !p {p = $2} END {if (r) printf "%.0f\n", p ? (p - r) * 1000 : 99999}' "$f"
done | sort -n)
worst=$(echo "$recovery" | tail -1)
note "all $VIEWERS viewers on edge 2 $((back_ms - kill_ms)) ms after the kill; noticed to playing again, ms: $(echo $recovery)"
[[ -n $worst ]] || fail "no viewer noticed the kill"
((worst <= RECOVERY_S * 1000)) || fail "a viewer played again $worst ms after noticing (deadline $RECOVERY_S s)"
# Are they playing? Packets keep coming: no viewer restarts for 2 s more.
restarts_before=$(cat "$WORK"/v*.log | grep -c '^restart')
sleep 2
restarts_after=$(cat "$WORK"/v*.log | grep -c '^restart')
# 2 s of the viewers: gst-launch -m lines would show an error; none restarted.
((restarts_after == restarts_before)) || fail "viewers keep restarting on edge 2"
origin_viewers=$(ns origin curl -s http://127.0.0.1:8080/api/v1/paths | path_viewers)
note "origin after the kill: $origin_viewers viewer session(s) (edge 1's went with it)"

# --- drain edge 2 -----------------------------------------------------------
kill -TERM "$E2_PID"
wait_for 5 "edge 2's health check failing" bash -c "[[ \$(ip netns exec ${P}lb curl -s -o /dev/null -w '%{http_code}' http://$E2:8080/api/v1/health) == 503 ]]"
ns v1 timeout 3 bash -c "exec 3<>/dev/tcp/$E2/8554" 2>/dev/null && fail "a draining edge still accepts connections"
on2=$(viewers_on e2)
((on2 >= VIEWERS)) || fail "draining dropped viewers ($on2 left of $VIEWERS)"
kill -0 "$E2_PID" 2>/dev/null || fail "edge 2 did not wait for its viewers"
note "edge 2 drains: health 503, no new connections, its $on2 viewers stay"
# The viewers leave: the edge ends soon after.
for i in $(seq 1 "$VIEWERS"); do
  for pid in $(ip netns pids "${P}v$i"); do kill -9 "$pid" 2>/dev/null; done
done
wait_for 15 "edge 2 ending after its viewers left" bash -c "! kill -0 $E2_PID 2>/dev/null"
note "edge 2 ended after its viewers left"
((SECONDS < TEST_DEADLINE)) || fail "the test took too long"
echo "PASS"
