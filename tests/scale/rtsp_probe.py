#!/usr/bin/env python3
"""DESCRIBE and a UDP SETUP of rtsp://HOST:PORT/PATH; prints both replies.
Used by netns_topology.sh to see which address a viewer is told about."""
import socket
import sys


def reply(sock, buf):
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise SystemExit("connection closed")
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    while len(rest) < length:
        chunk = sock.recv(4096)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def main():
    host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    url = f"rtsp://{host}:{port}{path}"
    with socket.create_connection((host, port), timeout=5) as s:
        s.sendall(f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
        describe, buf = reply(s, b"")
        print(describe.decode(errors="replace"))
        s.sendall(f"SETUP {url}/stream=0 RTSP/1.0\r\nCSeq: 2\r\n"
                  "Transport: RTP/AVP;unicast;client_port=40000-40001\r\n\r\n".encode())
        setup, _ = reply(s, buf)
        print(setup.decode(errors="replace"))


main()
