"""A fast local webhook receiver for bench_webhooks.py, run as its own process (asyncio,
HTTP/1.1 keep-alive), so that the figure measures the dispatcher, not the receiver.

    python tests/bench/webhook_receiver.py PORT FAIL_SHARE

Answers 500 to the first attempt of a delivery whose id's SHA-256 starts below
FAIL_SHARE × 256, 204 otherwise. `GET /stats` answers the JSON
{delivery id: [status of each attempt, in order]}.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import sys

attempts: dict[str, list[int]] = {}


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, threshold: int) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ", 1)[0]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
            await reader.readexactly(int(headers.get("content-length") or 0))
            if method == "GET":
                body = json.dumps(attempts).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
            else:
                delivery = headers.get("schoolgate-delivery", "")
                seen = attempts.setdefault(delivery, [])
                fail = not seen and hashlib.sha256(delivery.encode()).digest()[0] < threshold
                status = 500 if fail else 204
                seen.append(status)
                writer.write(
                    b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
                    if fail
                    else b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n"
                )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main(port: int, share: float) -> None:
    threshold = int(share * 256)
    server = await asyncio.start_server(lambda r, w: handle(r, w, threshold), "127.0.0.1", port, backlog=1024)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
