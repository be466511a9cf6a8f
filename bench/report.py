"""The benchmark's results: one table on stdout, a JSON file and a PNG chart.

Per gateway and mode, over the rounds: requests/s, p50 and p99 latency are medians of the
rounds; peak RSS is the highest seen in any round; CPU ms per request and subgraph requests per
query are medians; "bad" adds up every response that was not a 200 with the right answer, and
wrk's socket errors and timeouts. The ratios divide each gateway's number by Rugzak's.
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

BASELINE = "rugzak"
ERROR_FIELDS = (
    "bad_status",
    "bad_body",
    "connect_errors",
    "read_errors",
    "write_errors",
    "timeouts",
)


def summarize(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    def median(key: str) -> float | None:
        values = [r[key] for r in rounds if r.get(key) is not None]
        return statistics.median(values) if values else None

    return {
        "rps": median("rps"),
        "p50_ms": (median("p50_us") or 0) / 1000,
        "p99_ms": (median("p99_us") or 0) / 1000,
        "peak_rss_mb": max(r["peak_rss_bytes"] for r in rounds) / 2**20,
        "cpu_ms_per_request": median("cpu_ms_per_request"),
        "subgraph_requests_per_query": median("subgraph_requests_per_query"),
        "requests": sum(int(r["requests"]) for r in rounds),
        "bad": sum(int(r[k]) for r in rounds for k in ERROR_FIELDS),
        "rounds": len(rounds),
    }


def _ratio(value: float | None, base: float | None) -> str:
    return f"{value / base:.2f}x" if value and base else "-"


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def table(title: str, summaries: dict[str, dict[str, Any]], failures: dict[str, str]) -> str:
    base = summaries.get(BASELINE, {})
    head = (
        f"{'gateway':<12} {'req/s':>8} {'÷rugzak':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'÷rugzak':>8} {'RSS MB':>7} {'÷rugzak':>8} {'CPU ms/req':>10} {'sub req/q':>9} "
        f"{'bad':>5}"
    )
    lines = [title, head, "-" * len(head)]
    for name, s in summaries.items():
        lines.append(
            f"{name:<12} {_num(s['rps']):>8} {_ratio(s['rps'], base.get('rps')):>8} "
            f"{_num(s['p50_ms']):>8} {_num(s['p99_ms']):>8} "
            f"{_ratio(s['p99_ms'], base.get('p99_ms')):>8} {_num(s['peak_rss_mb'], 0):>7} "
            f"{_ratio(s['peak_rss_mb'], base.get('peak_rss_mb')):>8} "
            f"{_num(s['cpu_ms_per_request'], 2):>10} "
            f"{_num(s['subgraph_requests_per_query']):>9} {s['bad']:>5}"
        )
    for name, problem in failures.items():
        lines.append(f"{name:<12} not measured: {problem}")
    return "\n".join(lines)


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The goals Rugzak is measured against (distinct requests, one core each, one run):
    requests/s at least 2.5x Apollo Gateway's and above Hive Gateway's with the Rust planner on
    the deep query; p99 latency and peak RSS below every other gateway's, in both scenarios; at
    least 2x Apollo Gateway's requests/s on the citizen's profile. A goal whose gateways did not
    run is left out."""
    out: list[dict[str, Any]] = []

    def summary(scenario: str, gateway: str) -> dict[str, Any] | None:
        modes = results.get("scenarios", {}).get(scenario, {}).get("modes", {})
        entry = modes.get("distinct", {}).get(gateway)
        return entry.get("summary") if entry else None

    def goal(text: str, ours: float | None, theirs: float | None, met: bool) -> None:
        if ours is not None and theirs is not None:
            out.append({"goal": text, "rugzak": ours, "other": theirs, "met": met})

    for scenario, factor, above in (("federation", 2.5, "hive-router"), ("profile", 2.0, None)):
        ours = summary(scenario, BASELINE)
        if ours is None:
            continue
        apollo = summary(scenario, "apollo")
        if apollo and apollo.get("rps"):
            ratio = ours["rps"] / apollo["rps"]
            goal(f"{scenario}: req/s >= {factor}x Apollo Gateway's ({ratio:.2f}x)",
                 ours["rps"], apollo["rps"], ratio >= factor)  # fmt: skip
        other = summary(scenario, above) if above else None
        if other:
            goal(f"{scenario}: req/s above {above}'s", ours["rps"], other["rps"],
                 ours["rps"] > other["rps"])  # fmt: skip
        modes = results["scenarios"][scenario]["modes"].get("distinct", {})
        for name in modes:
            theirs = summary(scenario, name)
            if name == BASELINE or theirs is None:
                continue
            for key, label in (("p99_ms", "p99 latency"), ("peak_rss_mb", "peak RSS")):
                goal(f"{scenario}: {label} below {name}'s", ours.get(key), theirs.get(key),
                     (ours.get(key) or 0) < (theirs.get(key) or 0))  # fmt: skip
    return out


def targets_text(goals: list[dict[str, Any]]) -> str:
    lines = ["\ntargets (distinct requests):"]
    for g in goals:
        lines.append(f"  {'met' if g['met'] else 'NOT met':7}  {g['goal']}: "
                     f"Rugzak {g['rugzak']:.1f}, other {g['other']:.1f}")  # fmt: skip
    return "\n".join(lines)


def write_json(path: Path, results: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


def write_chart(path: Path, results: dict[str, Any]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [
        (scenario, mode, by_gateway)
        for scenario, data in results["scenarios"].items()
        for mode, by_gateway in data["modes"].items()
    ]
    metrics = (
        ("rps", "requests/s"),
        ("p99_ms", "p99 latency (ms)"),
        ("peak_rss_mb", "peak RSS (MB)"),
    )
    fig, axes = plt.subplots(
        len(metrics), len(panels), figsize=(4.2 * len(panels), 9), squeeze=False
    )
    for col, (scenario, mode, by_gateway) in enumerate(panels):
        names = list(by_gateway)
        for row, (key, label) in enumerate(metrics):
            ax = axes[row][col]
            values = [by_gateway[n]["summary"][key] or 0 for n in names]
            colors = ["#d95f02" if n == BASELINE else "#7570b3" for n in names]
            bars = ax.bar(names, values, color=colors)
            ax.bar_label(bars, fmt="%.0f", fontsize=8)
            ax.set_ylabel(label)
            ax.tick_params(axis="x", labelrotation=30, labelsize=8)
            if row == 0:
                ax.set_title(f"{scenario}, {mode} requests", fontsize=10)
    settings = results["settings"]
    fig.suptitle(
        f"One core per gateway, {settings['connections']} connections, "
        f"{settings['rounds']} x {settings['seconds']:g} s rounds ({results['started']})",
        fontsize=10,
    )
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
