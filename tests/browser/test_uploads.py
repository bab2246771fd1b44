"""Uploads against the real server (uvicorn): an oversized body is cut off, not received whole."""

from __future__ import annotations

import select
import socket
from urllib.parse import urlsplit

from browser.liveserver import LiveServer

LIMIT = 50 * 1024 * 1024  # the live server's default XINYONG_UPLOAD_MAX_MB
PIECE = 64 * 1024


def _chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def test_chunked_upload_without_a_length_is_refused_once_past_the_limit(live_server: LiveServer) -> None:
    """A body sent without Content-Length gets 413 as soon as it passes the limit: the server
    stops reading instead of spooling three times the limit to disk first."""
    url = urlsplit(live_server.url)
    boundary = "xinyong-test-boundary"
    head = (f"POST /api/v1/batches?kind=penalties HTTP/1.1\r\nHost: {url.netloc}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\nTransfer-Encoding: chunked\r\n"
            f"Accept: application/json\r\n\r\n").encode()
    part = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.csv\"\r\n"
            f"Content-Type: text/csv\r\n\r\n").encode()
    sent = 0
    with socket.create_connection((url.hostname, url.port), timeout=10) as sock:
        sock.sendall(head + _chunk(part))
        frame = _chunk(b"a" * PIECE)
        while sent < 3 * LIMIT:
            if select.select([sock], [], [], 0)[0]:
                break  # the server has answered
            try:
                sock.sendall(frame)
            except (BrokenPipeError, ConnectionResetError, TimeoutError):
                break
            sent += PIECE
        answer = b""
        while b"\r\n\r\n" not in answer:
            data = sock.recv(65536)
            if not data:
                break
            answer += data
    status_line = answer.split(b"\r\n", 1)[0]
    assert status_line.startswith(b"HTTP/1.1 413"), answer[:300]
    # what the kernel's socket buffers took after the server stopped reading is all that is extra
    assert sent < LIMIT + 16 * 1024 * 1024, sent
