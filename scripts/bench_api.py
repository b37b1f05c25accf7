"""The hot path, measured side by side with its baselines in one uvicorn worker.

One server process (embedded database, demo catalogue, JSON logs at INFO as in production,
one uvicorn worker with uvloop/httptools) serves our app and, beside it, the baselines of
`bench_baselines.py`: a raw Starlette JSON endpoint, a bare FastAPI endpoint and bare
FastAPI + Beanie handlers running the same list, search and geo queries as ours. This
script sends each case's requests one after another over a keep-alive connection and reads
the server's own CPU time (`time.process_time()`) before and after: CPU per request is the
stable figure on a shared machine (wall time depends on the neighbours). Rounds alternate
the cases; the median round counts.

    python scripts/bench_api.py [--requests 1000] [--rounds 5]

Targets (issue 9): `/health/live` ≥ 0.45× raw Starlette's requests/s, `/users/me` ≥ 0.30×;
list of 20 ≤ 1.2× the bare Beanie handler's CPU per request; search and geo ≤ 1.5×.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
from _common import ROOT

NEAR = "near_lat=-1.28&near_lng=36.82&radius_km=50"


@dataclass(frozen=True)
class Case:
    name: str
    url: str
    auth: bool = False


@dataclass(frozen=True)
class Comparison:
    ours: Case
    baseline: Case
    target: float
    per_second: bool  # True: ours' requests/s ÷ baseline's (≥ target); else CPU ratio (≤)


RAW = Case("raw Starlette JSON", "/_raw/health/live")
BARE = Case("bare FastAPI JSON", "/_bare/health/live")
COMPARISONS = [
    Comparison(Case("/health/live", "/api/v1/health/live"), RAW, 0.45, per_second=True),
    Comparison(Case("/users/me (token)", "/api/v1/users/me", auth=True), RAW, 0.30, True),
    Comparison(
        Case("opportunities, 20 by deadline", "/api/v1/opportunities?limit=20"),
        Case("bare Beanie: same query", "/_beanie/opportunities"),
        1.2,
        per_second=False,
    ),
    Comparison(
        Case("opportunities, q=grant (relevance)", "/api/v1/opportunities?q=grant&limit=20"),
        Case("bare Beanie: same queries", "/_beanie/opportunities/search?q=grant"),
        1.5,
        per_second=False,
    ),
    Comparison(
        Case("events within 50 km of Nairobi", f"/api/v1/events?{NEAR}&limit=20"),
        Case(
            "bare Beanie: same queries",
            "/_beanie/events/near?lat=-1.28&lng=36.82&radius_km=50",
        ),
        1.5,
        per_second=False,
    ),
]
# Reported without a target: what they cost on the embedded backend.
EXTRA = [
    BARE,
    Case("opportunities + 4 facets", "/api/v1/opportunities?limit=20&facets=type,industries,country,sdgs"),
    Case("reference/industries", "/api/v1/reference/industries"),
]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ENVIRONMENT": "development",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",  # the access log is part of the hot path
        "RATE_LIMIT_ENABLED": "false",
        "SEED_DEMO_DATA": "true",
    }
    env.pop("MONGODB_URL", None)
    return subprocess.Popen(  # noqa: S603 - this script, in serve mode
        [sys.executable, __file__, "--serve", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def cpu(client: httpx.Client) -> float:
    return float(client.get("/_bench/cpu").json()["cpu"])


def measure(client: httpx.Client, case: Case, token: str, requests: int) -> float:
    """Server CPU seconds per request."""
    headers = {"Authorization": f"Bearer {token}"} if case.auth else {}
    before = cpu(client)
    for _ in range(requests):
        client.get(case.url, headers=headers).raise_for_status()
    return (cpu(client) - before) / requests


def selected(only: str | None) -> list[Comparison]:
    return [c for c in COMPARISONS if only is None or only in c.ours.name]


def run(requests: int, rounds: int, only: str | None = None) -> dict[Case, float]:
    port = _free_port()
    server = start_server(port)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            deadline = time.monotonic() + 120
            while True:
                try:
                    client.get("/api/v1/health/live").raise_for_status()
                    break
                except httpx.TransportError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise SystemExit("the bench server did not start") from None
                    time.sleep(0.2)
            token = client.get("/_bench/token").json()["token"]
            cases = [c for comp in selected(only) for c in (comp.ours, comp.baseline)]
            cases += EXTRA if only is None else [BARE]
            cases = list(dict.fromkeys(cases))
            for case in cases:  # warm-up: caches, imports, first-call costs
                measure(client, case, token, 50)
            samples: dict[Case, list[float]] = {case: [] for case in cases}
            for _ in range(rounds):
                for case in cases:
                    samples[case].append(measure(client, case, token, requests))
            return {case: statistics.median(values) for case, values in samples.items()}
    finally:
        server.terminate()
        server.wait(timeout=20)


def report(results: dict[Case, float], only: str | None = None) -> None:
    def us(seconds: float) -> str:
        return f"{seconds * 1e6:8.0f} µs"

    print(f"{'case':42} {'CPU/request':>12} {'req/s (1 core)':>15}")
    for case, seconds in results.items():
        print(f"{case.name:42} {us(seconds):>12} {1 / seconds:15,.0f}")
    print()
    print(f"{'ours':36} {'vs':36} {'ratio':>7} {'target':>9}  ")
    for comp in selected(only):
        ours, base = results[comp.ours], results[comp.baseline]
        if comp.per_second:
            ratio, ok, target = base / ours, base / ours >= comp.target, f"≥ {comp.target}×"
            what = f"req/s of {comp.baseline.name}"
        else:
            ratio, ok, target = ours / base, ours / base <= comp.target, f"≤ {comp.target}×"
            what = f"CPU of {comp.baseline.name}"
        verdict = "ok" if ok else "MISS"
        print(f"{comp.ours.name:36} {what:36} {ratio:6.2f}× {target:>9}  {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="per case and round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", help="only the comparisons whose name contains this")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the server process
    args = parser.parse_args()
    if args.serve is not None:
        from bench_baselines import serve

        from app.main import load_settings

        serve(args.serve, load_settings())
        return
    report(run(args.requests, args.rounds, args.only), args.only)


if __name__ == "__main__":
    main()
