"""The relying party's own web server on 127.0.0.1: what the suite serves under its test alias.

It answers the provider's back-channel calls (OIDC Back-Channel Logout 1.0 section 2.5:
a POST with ``logout_token``, answered 200 with ``Cache-Control: no-store``) and serves
documents the provider fetches: a client's ``jwks_uri``, a ``request_uri`` and a
``sector_identifier_uri``. Browsers never reach it: the test browser stops at every
redirect back to the relying party and reads the URL instead.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

ALIAS = "/test/a/idp"
MAX_BODY = 64 * 1024


@dataclass
class Received:
    method: str
    path: str
    headers: dict
    body: bytes

    @property
    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("ascii", "replace"), keep_blank_values=True)


@dataclass
class Receiver:
    server: ThreadingHTTPServer
    thread: threading.Thread
    documents: dict = field(default_factory=dict)
    received: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}{ALIAS}"

    def url(self, name: str) -> str:
        return f"{self.base_url}/{name}"

    def serve(self, name: str, body: bytes | str, content_type: str = "application/json") -> str:
        """Serve ``body`` at ``url(name)`` (replacing what was there); returns the URL."""
        with self.lock:
            self.documents[f"{ALIAS}/{name}"] = (content_type, body.encode() if isinstance(body, str) else body)
        return self.url(name)

    def requests_to(self, name: str, method: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path.split("?")[0] == f"{ALIAS}/{name}"
                    and (method is None or r.method == method)]

    def wait_for(self, name: str, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests to ``name`` once there are ``count`` (or whatever arrived by ``timeout``):
        the provider delivers back-channel calls from its job queue, after the browser has moved on."""
        deadline = time.monotonic() + timeout
        while len(found := self.requests_to(name)) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        return found

    def forget(self) -> None:
        with self.lock:
            self.received.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


def start_receiver() -> Receiver:
    receiver: Receiver | None = None

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # quiet: the test output is the report
            pass

        def _record(self) -> Received:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            entry = Received(self.command, self.path, {k.lower(): v for k, v in self.headers.items()},
                             self.rfile.read(length) if length else b"")
            with receiver.lock:
                receiver.received.append(entry)
            return entry

        def _answer(self, status: int, body: bytes = b"", content_type: str | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            self._record()
            with receiver.lock:
                document = receiver.documents.get(self.path.split("?")[0])
            if document is None:
                self._answer(404)
            else:
                self._answer(200, document[1], document[0])

        def do_POST(self):
            self._record()
            # Back-Channel Logout 1.0 section 2.8: 200 when the logout succeeded.
            self._answer(200 if self.path.startswith(f"{ALIAS}/backchannel_logout") else 404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="rp-receiver", daemon=True)
    receiver = Receiver(server, thread)
    thread.start()
    return receiver
