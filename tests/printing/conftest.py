"""The whitelist world (vendors driven to approval over HTTP) for document tests, and a
listener that records any request a render might make."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from service.printing import publications
from tests.whitelist.conftest import WhitelistWorld

RARE_NAMES = "张堃 李昇 𠮷田 王䶮"


@pytest.fixture
def wl(client, accounts, db) -> WhitelistWorld:
    return WhitelistWorld(client, accounts, db)


class Listener:
    def __init__(self) -> None:
        self.hits: list[str] = []
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                listener.hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def hostile(port: int) -> str:
    """Markup a vendor might type into its name, to make the renderer fetch things."""
    return f'<img src="http://127.0.0.1:{port}/x"><link rel="stylesheet" href="file:///etc/passwd">'


class Renders:
    """The renders the publications module asked for; `hook` runs inside a render."""

    def __init__(self) -> None:
        self.templates: list[str] = []
        self.hook = None

    @property
    def count(self) -> int:
        return len(self.templates)


@pytest.fixture
def renders(monkeypatch) -> Renders:
    real, seen = publications.render, Renders()

    async def counted(job, **kwargs):
        seen.templates.append(job.template)
        if seen.hook is not None:
            await seen.hook()
        return await real(job, **kwargs)

    monkeypatch.setattr(publications, "render", counted)
    return seen
