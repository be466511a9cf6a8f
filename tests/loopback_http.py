"""One HTTP client for the tests' calls to their own servers on 127.0.0.1.

`httpx.post(...)` builds a new client per call, and with it an SSL context from certifi's bundle:
about 0.15-0.2 s of CPU each on the 2-core test machine, which made the client side of the
differential tests (two calls per generated operation, thousands per run) a large part of their
time. This client is made once and keeps its connections alive. It is thread-safe, reads no proxy
settings from the environment (everything here is loopback) and keeps no cookies, so one test's
answers cannot change another's requests.
"""

from __future__ import annotations

from http.cookiejar import CookieJar, DefaultCookiePolicy

import httpx

_NO_COOKIES = CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))

# an idle connection is given up well before the servers' own idle timeouts (5 s for uvicorn
# and Node.js): reusing one the server is closing at that moment fails with "connection reset"
_LIMITS = httpx.Limits(keepalive_expiry=2.0)

LOOPBACK = httpx.Client(timeout=30.0, trust_env=False, cookies=_NO_COOKIES, limits=_LIMITS)
