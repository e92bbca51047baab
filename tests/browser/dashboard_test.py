#!/usr/bin/python3
"""The dashboard in headless Chromium, driven over the DevTools protocol.

A real server with a publisher and a viewer on /live/cam; the page must load
with no console error, show the published path, its bitrate must become
non-zero, and its Kick button must end the viewer's session. A path named
with markup must show as text. Screenshots go to the directory given as the
second argument (meson's log directory by default): test artefacts.

Usage: dashboard_test.py SERVER_BINARY [ARTEFACT_DIR]
Exit 77 (skipped) only when no Chromium is installed.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import websocket

DEADLINE_S = 30


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait(cond, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = cond()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


def http(method, url, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")
    except (urllib.error.URLError, ConnectionError):
        return 0, None


class DevTools:
    """One page target of a headless Chromium, over its WebSocket."""

    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=DEADLINE_S)
        self.next_id = 0
        self.errors = []

    def call(self, method, **params):
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise AssertionError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.note_event(msg)
        raise AssertionError(f"{method}: no answer")

    def note_event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.exceptionThrown":
            self.errors.append(p["exceptionDetails"].get("text", "exception") + " " +
                               json.dumps(p["exceptionDetails"].get("exception", {}).get("description")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            self.errors.append("console: " + json.dumps(p.get("args")))
        elif method == "Log.entryAdded" and p["entry"].get("level") == "error":
            self.errors.append("log: " + p["entry"].get("text", "") + " " + p["entry"].get("url", ""))

    def eval(self, expression):
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in r:
            raise AssertionError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def screenshot(self, path):
        import base64
        shot = self.call("Page.captureScreenshot", format="png")
        with open(path, "wb") as f:
            f.write(base64.b64decode(shot["data"]))


def start_chromium(binary, profile):
    proc = subprocess.Popen(
        [binary, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-extensions", "--disable-background-networking", "--window-size=1400,900",
         f"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "about:blank"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    port_file = os.path.join(profile, "DevToolsActivePort")
    wait(lambda: os.path.exists(port_file) and open(port_file).read().strip(), DEADLINE_S,
         "Chromium's DevTools port")
    port = int(open(port_file).read().split()[0])

    def page():
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
            pages = [t for t in json.load(r) if t.get("type") == "page"]
        return pages[0]["webSocketDebuggerUrl"] if pages else None

    return proc, wait(page, DEADLINE_S, "a page target")


def main():
    server_bin = sys.argv[1]
    artefacts = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("MESON_BUILD_ROOT", ".")
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if not browser:
        print("SKIP: no chromium installed (the test set-up installs Debian's chromium)")
        return 77
    os.makedirs(artefacts, exist_ok=True)
    rtsp, web = free_port(), free_port()
    api = f"http://127.0.0.1:{web}"
    children = []
    work = tempfile.mkdtemp(prefix="gms-dashboard-")
    try:
        server = subprocess.Popen(
            [server_bin, "-a", "127.0.0.1", "-p", str(rtsp), "--http-port", str(web),
             "--publish", "/live/*", "-v"],
            stdout=open(os.path.join(work, "server.log"), "w"), stderr=subprocess.STDOUT)
        children.append(server)
        wait(lambda: http("GET", api + "/api/v1/paths")[0] == 200, DEADLINE_S, "the HTTP API")

        cam = f"rtsp://127.0.0.1:{rtsp}/live/cam"
        children.append(subprocess.Popen(
            ["ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re", "-f", "lavfi", "-i",
             "testsrc=size=320x240:rate=25:duration=60", "-c:v", "libx264", "-preset", "ultrafast",
             "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p", "-f", "rtsp",
             "-rtsp_transport", "tcp", cam], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        def published():
            _, body = http("GET", api + "/api/v1/paths")
            text = json.dumps(body)
            return "/live/cam" in text
        wait(published, DEADLINE_S, "the publisher")
        viewer = subprocess.Popen(
            ["gst-launch-1.0", "-q", "rtspsrc", f"location={cam}", "protocols=tcp", "!", "fakesink"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(viewer)

        def viewer_session():
            code, body = http("GET", api + "/api/v1/sessions")
            if code != 200:
                return None
            for s in body.get("sessions", []):
                if s.get("path") == "/live/cam" and s.get("role") == "viewer":
                    return s["id"]
            return None
        session_id = wait(viewer_session, DEADLINE_S, "the viewer's session in the API")

        profile = os.path.join(work, "profile")
        os.makedirs(profile)
        chromium, ws_url = start_chromium(browser, profile)
        children.append(chromium)
        dt = DevTools(ws_url)
        for domain in ("Runtime", "Log", "Page"):
            dt.call(f"{domain}.enable")
        dt.call("Page.navigate", url=api + "/")

        wait(lambda: dt.eval("!!document.querySelector('tr[data-path=\"/live/cam\"]')"), DEADLINE_S,
             "the published path on the page")
        bitrate = wait(lambda: (lambda t: t if t and t not in ("–", "0 bit/s") else None)(
            dt.eval("document.querySelector('tr[data-path=\"/live/cam\"] .bitrate').textContent")),
            DEADLINE_S, "a non-zero bitrate on the page")
        print(f"page shows /live/cam at {bitrate}")
        # The sparkline has points once two polls came.
        wait(lambda: dt.eval("document.querySelector('tr[data-path=\"/live/cam\"] polyline')"
                             ".getAttribute('points').split(' ').length >= 2"), DEADLINE_S,
             "the sparkline")
        dt.screenshot(os.path.join(artefacts, "dashboard-playing.png"))

        # A name with markup shows as text, and makes no element.
        code, body = http("POST", api + "/api/v1/paths", {"name": "/x<img src=x>", "publish": True})
        if code == 201:
            wait(lambda: dt.eval("[...document.querySelectorAll('#paths td')].some("
                                 "td => td.textContent.includes('/x<img src=x>'))"), DEADLINE_S,
                 "the path named with markup, as text")
            assert dt.eval("document.querySelectorAll('#paths img').length") == 0, "markup was rendered"
        else:
            print(f"a path named with markup is refused by the API ({code}): {body}")

        # Kick the viewer from the page.
        selector = f"tr[data-session=\"{session_id}\"] button[data-action=kick]"
        wait(lambda: dt.eval(f"!!document.querySelector('{selector}')"), DEADLINE_S,
             "the viewer's Kick button")
        dt.eval(f"document.querySelector('{selector}').click()")
        wait(lambda: viewer_session() != session_id, DEADLINE_S, "the kicked session to end")
        wait(lambda: viewer.poll() is not None, DEADLINE_S, "the kicked viewer to stop")
        wait(lambda: not dt.eval(f"!!document.querySelector('tr[data-session=\"{session_id}\"]')"),
             DEADLINE_S, "the kicked session to leave the page")
        dt.screenshot(os.path.join(artefacts, "dashboard-kicked.png"))
        print(f"kicked session {session_id}: the viewer ended ({viewer.returncode})")

        # Let late console messages arrive, then none may be an error.
        dt.eval("new Promise(r => setTimeout(r, 500))")
        assert not dt.errors, "console errors: " + "\n".join(dt.errors)
        assert server.poll() is None, "the server died"
        print("dashboard: page loads clean, shows the publisher, bitrate, kick works")
        return 0
    except AssertionError as e:
        print(f"FAIL: {e}")
        log = os.path.join(work, "server.log")
        if os.path.exists(log):
            print("server log (tail):\n" + "".join(open(log).readlines()[-40:]))
        return 1
    finally:
        for c in reversed(children):
            if c.poll() is None:
                c.terminate()
                try:
                    c.wait(5)
                except subprocess.TimeoutExpired:
                    c.kill()
                    c.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
