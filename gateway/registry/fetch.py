"""A running subgraph's SDL, read from `{ _service { sdl } }` as the gateway reads it: signed with
the subgraph secret when one is configured, so subgraphs that answer only the gateway answer."""

from __future__ import annotations

import httpx
import orjson

from auth.gateway_signature import SIGNATURE_HEADER, GatewaySigner

SERVICE_SDL_QUERY = "{ _service { sdl } }"


class SdlUnavailable(Exception):
    pass


async def fetch_sdl(url: str, secret: bytes | None, timeout: float = 10.0) -> str:
    body = orjson.dumps({"query": SERVICE_SDL_QUERY})
    headers = {"content-type": "application/json"}
    try:
        if secret is not None:
            target = httpx.URL(url).raw_path.decode("ascii")
            headers[SIGNATURE_HEADER] = GatewaySigner(secret).sign("POST", target, body, headers)
        async with httpx.AsyncClient(timeout=timeout) as client:
            response = await client.post(url, content=body, headers=headers)
        if response.status_code != 200:
            raise SdlUnavailable(
                f"{url} answered HTTP {response.status_code} to {SERVICE_SDL_QUERY}: "
                f"{response.text[:300]}"
            )
        payload = orjson.loads(response.content)
        sdl = payload["data"]["_service"]["sdl"]
    except SdlUnavailable:
        raise
    except (httpx.HTTPError, OSError, ValueError, KeyError, TypeError) as exc:
        reason = str(exc) or type(exc).__name__
        raise SdlUnavailable(f"cannot read the SDL of {url}: {reason}") from exc
    if not isinstance(sdl, str) or not sdl.strip():
        raise SdlUnavailable(f"{url} answered no _service.sdl: is it a federation subgraph?")
    return sdl
