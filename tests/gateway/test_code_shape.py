"""Two rules of gateway/'s code, checked on its syntax trees (issue 16, "How it is checked").

- No module imports another module's private (`_`-prefixed) names: what a step needs from
  another is public, so it shows in that module's interface.
- No function takes more than six parameters (self and cls not counted): a longer list is a
  value waiting to be named. Exceptions, off the request path only, are listed with the reason.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
MAX_PARAMETERS = 6

# "module:qualified.name" -> why it may take more than six
LONG_SIGNATURES = {
    "gateway/http/serving.py:serve": (
        "starts the server once; every option but the app is a keyword"
    ),
    "gateway/outage_log.py:OutageLog.__init__": (
        "one per backend or circuit breaker, built at start; every option is a keyword"
    ),
    "gateway/readiness.py:Readiness.__init__": "built once at start-up, not per request",
    "gateway/registry/errors.py:RegistryRefusal.__init__": (
        "the registry API's refusals; every option is a keyword"
    ),
    "gateway/registry/service.py:Registry.__init__": "the registry service, built once at start",
    "gateway/registry/store.py:SqlBackend.commit": "a registry write (admin API, CLI)",
    "gateway/registry/store.py:SqlBackend.set_claims": "a registry write (admin API, CLI)",
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    root = GATEWAY.parent
    for path in sorted(GATEWAY.rglob("*.py")):
        yield path.relative_to(root).as_posix(), ast.parse(path.read_text(), str(path))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_module_imports_private_names_of_another() -> None:
    found = []
    for module, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                dotted = (node.module or "").split(".")
                names = [alias.name for alias in node.names]
                if any(_private(part) for part in dotted) or any(map(_private, names)):
                    found.append(f"{module}:{node.lineno} from {node.module} import {names}")
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if any(_private(part) for part in alias.name.split(".")):
                        found.append(f"{module}:{node.lineno} import {alias.name}")
    assert found == []


def _functions(
    body: list[ast.stmt], prefix: str
) -> Iterator[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef]]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield prefix + node.name, node
            yield from _functions(node.body, f"{prefix}{node.name}.")
        elif isinstance(node, ast.ClassDef):
            yield from _functions(node.body, f"{prefix}{node.name}.")


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    args = function.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    if names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names) + (args.vararg is not None) + (args.kwarg is not None)


def test_no_function_takes_more_than_six_parameters() -> None:
    found = {}
    for module, tree in _modules():
        for name, function in _functions(tree.body, ""):
            if _parameters(function) > MAX_PARAMETERS:
                found[f"{module}:{name}"] = _parameters(function)
    assert {key: n for key, n in found.items() if key not in LONG_SIGNATURES} == {}
    assert set(LONG_SIGNATURES) <= set(found), "an exception that is no longer needed"
