"""What monitoring tools and link checkers send to the real server (uvicorn): HEAD requests."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from browser.liveserver import LiveServer


def _raw_head(server: LiveServer, path: str) -> bytes:
    """Everything the server sends for ``HEAD path`` until it closes the connection."""
    address = urlsplit(server.url)
    with socket.create_connection((address.hostname, address.port), timeout=30) as sock:
        sock.sendall(f"HEAD {path} HTTP/1.1\r\nHost: {address.netloc}\r\nConnection: close\r\n\r\n".encode())
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    return received


def test_head_of_pages_and_health_checks_answers_200_with_headers_and_no_body(live_server: LiveServer) -> None:
    """HEAD / answered 405: an uptime check that sends HEAD saw the site as broken."""
    for path in ("/", "/healthz", "/readyz", "/api/v1/subjects?q=%E6%9C%89%E9%99%90%E5%85%AC%E5%8F%B8"):
        head, _, body = _raw_head(live_server, path).partition(b"\r\n\r\n")
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines)
        assert status_line == "HTTP/1.1 200 OK" and int(headers["content-length"]) > 0, (path, head)
        assert headers["x-frame-options"] == "deny" and body == b"", path
