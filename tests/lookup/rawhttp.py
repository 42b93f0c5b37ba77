"""A minimal HTTP/1.1 keep-alive client on asyncio streams.

Tests against `schoolgate serve --workers N` need to know which worker process holds
each connection (the local port is the key to find it with psutil), which httpx does
not expose. Only what the tests send: GET with headers, Content-Length bodies."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self):
        return json.loads(self.body)


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str, port: int) -> None:
        self.reader, self.writer, self.host, self.port = reader, writer, host, port

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, host, port)

    @property
    def local_port(self) -> int:
        return self.writer.get_extra_info("sockname")[1]

    async def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        parsed = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                parsed[name.strip().lower()] = value.strip()
        body = await self.reader.readexactly(int(parsed.get("content-length", "0")))
        return Reply(int(status_line.split()[1]), parsed, body)

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except ConnectionError:
            pass
