"""`schoolgate serve` still stops on SIGTERM after it has rendered a PDF.

The render pool's process is a child of the server worker; the worker (a
multiprocessing child of granian's supervisor) joins its children when it leaves, so a
pool left running would keep the whole server from stopping.
"""

from __future__ import annotations

import signal
import subprocess

import httpx
import psutil

from tests.cli.test_serve import data_dir, free_port, start, wait_ready  # noqa: F401  (data_dir: fixture)


def test_serve_stops_on_sigterm_after_rendering_a_pdf(data_dir):
    port = free_port()
    process = start(data_dir, port, "--workers", "1")
    try:
        wait_ready(port, process)
        response = httpx.get(f"http://127.0.0.1:{port}/api/v1/public/whitelist.pdf", timeout=180)
        assert response.status_code == 200 and response.content.startswith(b"%PDF-")
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=90)  # a hang detector, not a timing: a stop takes seconds
        except subprocess.TimeoutExpired:
            code = None
        assert code == 0, "serve did not stop on SIGTERM after a render"
    finally:
        if process.poll() is None:
            for child in psutil.Process(process.pid).children(recursive=True):
                child.kill()
            process.kill()
            process.wait()
