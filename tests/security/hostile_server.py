"""A server that misbehaves on purpose, for the registry's SDL fetches: raw HTTP/1.1 over asyncio
streams, so that it can drip, stall, lie about lengths and stream without end.

    GET  /stats                    what each path sent: requests, bytes written, whether the
                                   client went away before the end, the last request's headers
                                   and Host
    POST /sdl?bytes=N[&chunked=1]  a valid `_service { sdl }` answer with an SDL of about N
                                   bytes (tests/registry/heavy_sdl.py)
    POST /secret                   HTTP 403, body "INTERNAL ADMIN SERVICE: db_password=..."
    POST /secret-json              HTTP 200, a GraphQL error whose message holds the secret
    POST /drip?interval=S&bytes=N  HTTP 200 with Content-Length N, then one byte every S seconds
    POST /huge[?declared=1]        HTTP 200 and 200 MB of zeros, chunked (or with the length)
    POST /redirect?to=URL          HTTP 302 to URL
    POST /close                    reads the request, closes without a word
    POST /silent                   reads the request, never answers

    python -m tests.security.hostile_server (--fd N | --port P)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.registry.heavy_sdl import heavy_sdl

SECRET = "INTERNAL ADMIN SERVICE: db_password=hunter2-7f3a9"
HUGE = 200 * 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Seen:
    requests: int = 0
    bytes: int = 0
    cut_off: int = 0  # answers the client stopped reading before their end
    headers: list[str] = field(default_factory=list)  # names of the last request's headers
    host: str = ""  # the last request's Host header


STATS: dict[str, Seen] = {}


def _head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers.items()), "", ""]
    return "\r\n".join(lines).encode()


async def _send(writer: asyncio.StreamWriter, seen: Seen, data: bytes) -> None:
    writer.write(data)
    await writer.drain()
    seen.bytes += len(data)


async def _answer(
    path: str, query: dict[str, str], headers: dict[str, str], writer: asyncio.StreamWriter
) -> None:
    seen = STATS.setdefault(path, Seen())
    seen.requests += 1
    seen.headers = sorted(headers)
    seen.host = headers.get("host", "")
    if path == "/stats":
        body = json.dumps({p: vars(s) for p, s in STATS.items()}).encode()
        await _send(writer, Seen(), _head("200 OK", _length(body)) + body)
        return
    try:
        if path == "/sdl":
            sdl = heavy_sdl(int(query.get("bytes", "2000")))
            body = json.dumps({"data": {"_service": {"sdl": sdl}}}).encode()
            if query.get("chunked"):
                head = {"content-type": "application/json", "transfer-encoding": "chunked"}
                await _send(writer, seen, _head("200 OK", head))
                for start in range(0, len(body), CHUNK):
                    part = body[start : start + CHUNK]
                    await _send(writer, seen, b"%x\r\n%b\r\n" % (len(part), part))
                await _send(writer, seen, b"0\r\n\r\n")
            else:
                await _send(writer, seen, _head("200 OK", _length(body)) + body)
        elif path == "/secret":
            body = SECRET.encode()
            await _send(writer, seen, _head("403 Forbidden", _length(body, "text/plain")) + body)
        elif path == "/secret-json":
            body = json.dumps({"data": None, "errors": [{"message": SECRET}]}).encode()
            await _send(writer, seen, _head("200 OK", _length(body)) + body)
        elif path == "/drip":
            n, interval = int(query.get("bytes", "100")), float(query.get("interval", "0.5"))
            await _send(writer, seen, _head("200 OK", {"content-length": str(n)}))
            for _ in range(n):
                await asyncio.sleep(interval)
                await _send(writer, seen, b" ")
        elif path == "/huge":
            if query.get("declared"):
                await _send(writer, seen, _head("200 OK", {"content-length": str(HUGE)}))
                for _ in range(HUGE // CHUNK):
                    await _send(writer, seen, bytes(CHUNK))
            else:
                head = {"transfer-encoding": "chunked"}
                await _send(writer, seen, _head("200 OK", head))
                chunk = b"%x\r\n%b\r\n" % (CHUNK, bytes(CHUNK))
                for _ in range(HUGE // CHUNK):
                    await _send(writer, seen, chunk)
                await _send(writer, seen, b"0\r\n\r\n")
        elif path == "/redirect":
            head = {"location": query.get("to", "http://127.0.0.1/"), "content-length": "0"}
            await _send(writer, seen, _head("302 Found", head))
        elif path == "/close":
            return
        elif path == "/silent":
            await asyncio.sleep(3600)
        else:
            await _send(writer, seen, _head("404 Not Found", {"content-length": "0"}))
    except (ConnectionError, OSError):
        seen.cut_off += 1


def _length(body: bytes, media_type: str = "application/json") -> dict[str, str]:
    return {"content-type": media_type, "content-length": str(len(body))}


async def _handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        _, target, _ = lines[0].split(" ", 2)
        pairs = (line.split(": ", 1) for line in lines[1:] if ": " in line)
        headers = {k.lower(): v for k, v in pairs}
        length = int(headers.get("content-length", "0"))
        await reader.readexactly(length)
        url = urlsplit(target)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        await _answer(url.path, query, headers, writer)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


async def _serve(sock: socket.socket) -> None:
    server = await asyncio.start_server(_handle, sock=sock)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser()
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fd", type=int)
    where.add_argument("--port", type=int)
    args = parser.parse_args()
    if args.fd is not None:
        sock = socket.socket(fileno=args.fd)
    else:
        sock = socket.create_server(("127.0.0.1", args.port))
    asyncio.run(_serve(sock))


if __name__ == "__main__":
    main()
