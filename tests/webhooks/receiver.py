"""A real HTTP receiver for webhook tests and the benchmark: records every request and
can fail the first attempt of chosen deliveries with a 500."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    fail_first: Callable[[str], bool] = lambda delivery_id: False
    requests: list[Received] = field(default_factory=list)
    seen: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def delivered_ids(self) -> list[str]:
        return [r.headers["SchoolGate-Delivery"] for r in self.requests if r.answered == 204]

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                delivery_id = self.headers.get("SchoolGate-Delivery", "")
                with receiver.lock:
                    first = delivery_id not in receiver.seen
                    receiver.seen.add(delivery_id)
                    status = 500 if first and receiver.fail_first(delivery_id) else 204
                    receiver.requests.append(Received(self.path, dict(self.headers.items()), body, status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:  # quiet
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 512  # the stdlib's 5 resets concurrent connects

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
