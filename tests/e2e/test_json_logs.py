"""`--log-format json`: every line the gateway writes is a JSON object with a timestamp; each
request has one line (id, operation name and hash, status, duration, requests per subgraph);
subgraph errors are logged with their subgraph's name; a token, an INSZ or a variable's value
never appears."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from tests.e2e.observed import logged_stack
from tests.e2e.stack import ANN, PROFILE_QUERY

CURSOR = "cursor-kept-out-of-logs-7f3a9"
BY_INSZ = """query ByInsz($insz: ID!, $after: String) {
  citizen(insz: $insz) { qualifications(after: $after) { totalCount } }
}"""
TICKETS = "query Tickets { me { tickets { reference } } }"


def _lines(output: Path) -> list[dict[str, Any]]:
    lines = [line for line in output.read_text(encoding="utf-8").splitlines() if line.strip()]
    parsed = []
    for line in lines:
        entry = json.loads(line)  # every line: the gateway writes nothing else
        assert isinstance(entry, dict) and entry["time"].endswith("Z"), line
        assert {"level", "logger", "message"} <= entry.keys(), line
        parsed.append(entry)
    return parsed


def test_one_json_line_per_request_and_nothing_personal(tmp_path: Path) -> None:
    output = tmp_path / "gateway.log"
    with logged_stack(tmp_path, output, "--log-format", "json") as stack:
        token = stack.token(ANN)
        auth = {"authorization": f"Bearer {token}", "x-request-id": "req-profile-1"}
        profile = stack.query(PROFILE_QUERY, headers=auth)
        assert profile.status_code == 200 and profile.headers["x-request-id"] == "req-profile-1"
        by_insz = stack.query(BY_INSZ, {"insz": ANN, "after": CURSOR}, insz=ANN)
        assert by_insz.status_code == 200
        # education quotes the bad cursor in its error: the log must not
        assert CURSOR in by_insz.json()["errors"][0]["message"]
        stack.subgraphs["ticketing"].stop()  # its requests now fail: logged with its name
        tickets = stack.query(TICKETS, insz=ANN)
        assert tickets.json()["errors"]
        bad = stack.query("{ me { nope } }", insz=ANN)
        assert bad.status_code in (200, 400)
    text = output.read_text(encoding="utf-8")
    entries = _lines(output)
    access = [e for e in entries if e["logger"] == "rugzak.access"]
    assert len(access) == 4, access
    first = access[0]
    assert first["request_id"] == "req-profile-1"
    assert first["operation_name"] == "Profile"
    assert first["operation_hash"] == hashlib.sha256(PROFILE_QUERY.encode()).hexdigest()
    assert first["status"] == 200 and first["duration_ms"] > 0
    assert {"education", "allowances", "ticketing"} <= first["fetches"].keys()
    assert all(n >= 1 for n in first["fetches"].values())
    second = access[1]
    assert second["request_id"] == by_insz.headers["x-request-id"] != first["request_id"]
    assert second["operation_name"] == "ByInsz" and second["fetches"]
    assert second["subgraph_errors"] == {"education": 1}
    third = access[2]
    assert third["operation_name"] == "Tickets"
    assert third["subgraph_errors"] == {"ticketing": 1}
    assert access[3]["status"] == bad.status_code and access[3]["fetches"] == {}
    errors = [e for e in entries if e["logger"] == "rugzak.subgraph"]
    (cursor,) = [e for e in errors if e["subgraph"] == "education"]
    assert cursor["request_id"] == second["request_id"] and cursor["code"] == "BAD_USER_INPUT"
    assert cursor["error"] == "Malformed cursor '<variable>'."
    down = [e for e in errors if e["subgraph"] == "ticketing"]
    assert down and all(e["request_id"] == third["request_id"] for e in down)
    assert down[0]["code"] == "SUBREQUEST_HTTP_ERROR"
    # nothing personal anywhere: not the token, not the INSZ, not a variable's value
    assert token not in text and ANN not in text and CURSOR not in text
