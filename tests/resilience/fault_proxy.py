"""An HTTP/1.1 proxy in front of one subgraph that misbehaves on command: the fault suite points
the gateway at it and switches faults on and off under load.

    python -m tests.resilience.fault_proxy --upstream http://127.0.0.1:PORT --fd N

`GET /__fault?mode=M[&delay=S]` switches every following answer to mode M:

| mode | the gateway gets |
| --- | --- |
| pass | the subgraph's own answer |
| slow | the subgraph's answer, `delay` seconds late |
| status | 503 with a text body (an overloaded server or a proxy's error page) |
| nonjson | 200 with an HTML page |
| garbage_body | 200, `application/json`, random bytes |
| garbage | random bytes instead of HTTP, then the connection closes |
| truncated | 200 announcing a longer body than it sends, then the connection closes |
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
from urllib.parse import parse_qs, urlsplit

_mode = "pass"
_delay = 0.0


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return None


async def _read_message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    length = _content_length(head)
    body = await reader.readexactly(length) if length else b""
    return head, body


def _response(status: str, content_type: bytes, body: bytes) -> bytes:
    return (
        f"HTTP/1.1 {status}\r\n".encode()
        + b"content-type: "
        + content_type
        + b"\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


class Proxy:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        global _mode, _delay
        upstream: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        try:
            while True:
                try:
                    head, body = await _read_message(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                target = head.split(b" ", 2)[1].decode("latin-1")
                if target.startswith("/__fault"):
                    query = parse_qs(urlsplit(target).query)
                    _mode = query.get("mode", ["pass"])[0]
                    _delay = float(query.get("delay", ["0"])[0])
                    writer.write(_response("200 OK", b"text/plain", _mode.encode()))
                    await writer.drain()
                    continue
                mode = _mode
                if mode in ("pass", "slow"):
                    if mode == "slow":
                        await asyncio.sleep(_delay)
                    try:
                        if upstream is None:
                            upstream = await asyncio.open_connection(self.host, self.port)
                        upstream[1].write(head + body)
                        answer_head, answer_body = await _read_message(upstream[0])
                    except (OSError, asyncio.IncompleteReadError):
                        return  # the subgraph is away: so is this connection
                    writer.write(answer_head + answer_body)
                elif mode == "status":
                    writer.write(_response("503 Service Unavailable", b"text/plain", b"overloaded"))
                elif mode == "nonjson":
                    page = b"<html><body><h1>Maintenance</h1></body></html>"
                    writer.write(_response("200 OK", b"text/html", page))
                elif mode == "garbage_body":
                    writer.write(_response("200 OK", b"application/json", os.urandom(256)))
                elif mode == "garbage":
                    writer.write(os.urandom(512))
                    await writer.drain()
                    return
                elif mode == "truncated":
                    full = b'{"data":{"_entities":[' + b'{"x":1},' * 200 + b"]}}"
                    writer.write(
                        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
                        + str(len(full)).encode()
                        + b"\r\n\r\n"
                        + full[: len(full) // 2]
                    )
                    await writer.drain()
                    return
                await writer.drain()
        finally:
            if upstream is not None:
                upstream[1].close()
            writer.close()


async def _serve(upstream: str, fd: int) -> None:
    sock = socket.socket(fileno=fd)
    server = await asyncio.start_server(Proxy(upstream).handle, sock=sock)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", required=True)
    parser.add_argument("--fd", type=int, required=True)
    args = parser.parse_args()
    asyncio.run(_serve(args.upstream, args.fd))


if __name__ == "__main__":
    main()
