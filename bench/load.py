"""Under load: prospects on the API and the pages, and websocket viewers, for a bounded time.

The whole system as `make run` starts it (web, workers, beat, simulator), on a database of its own;
``--sandboxes`` sandboxes made through the API (the five industries in turn). Then, on loopback,
``--users`` prospects, each a loop of one request and a think time of 0.2–1 s until the time is up:
the API reads of a sandbox (assets, sensors, a sensor's series, events, KPIs) with its Bearer token,
overlay posts (an anomaly the asset's type can have, an O2 setpoint on a heater or boiler; at most one
live overlay per asset, so they never stack), and page loads (the sandbox's home and an asset's page,
signed in through the sandbox's access link, and the portal's home). Alongside, ``--viewers``
websocket viewers of ``/ws/live/``, spread over the sandboxes, count the ticks they receive and lose
(bench/realtime.py's viewer). Every second the bench samples the database's connections
(pg_stat_activity) and the resident memory of the system's processes.

It prints, per endpoint group, requests, p50/p95/p99 latency, errors and 5xx; the peak connections;
the peak memory; the websocket ticks received and lost. Exit status 1 if any request got a 5xx.

    REDIS_URL=redis://127.0.0.1:6386 .venv/bin/python bench/load.py [--seconds 600] [--users 24]
        [--viewers 24] [--sandboxes 6] [--database demoportal_load] [--port 18760] [--log FILE]

REDIS_URL (default redis://127.0.0.1:6379) names the Redis server the system under test uses; two
runs on one machine need different databases, ports and Redis servers.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import resource
import sys
import threading
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import numpy as np
import psycopg
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.realtime import (  # noqa: E402  (after the path is set)
    INDUSTRIES,
    REDIS_DBS,
    Process,
    Viewed,
    Window,
    process_kind,
    processes,
    redis_url,
    staff_token,
    ticks_lost,
    watch,
)
from bench.system import running_system  # noqa: E402
from bench.table import print_table  # noqa: E402
from simulation.engine.assets import ASSET_TYPES  # noqa: E402

OVERLAY_MINUTES = 1  # an overlay's life; an asset gets a new one only after its last has ended
THINK_SECONDS = (0.2, 1.0)
LIVE_TICK_SECONDS = 1
REFUSED_O2_TRIMS = "O2 trims refused (400 expected)"
WARMUP_SECONDS = 10  # the viewers connect and subscribe; ticks count from then on


@dataclass
class Target:
    """One sandbox as its prospect sees it."""

    sandbox_id: int
    host: str  # <slug>.localhost:<port>
    token: str
    session: str  # the session cookie its access link gave
    assets: list[dict[str, Any]]
    sensors: list[dict[str, Any]]
    overlay_free_at: dict[int, float] = field(default_factory=dict)  # asset id → monotonic time


def target_make(n: int, api: requests.Session, port: int) -> Target:
    """A new sandbox through the API, signed in to through its access link, its plant listed."""
    base = f"http://127.0.0.1:{port}"
    body = {"email": f"prospect-{n}@load.example", "product": "thermalcommand", "industry": INDUSTRIES[n % 5]}
    created = api.post(f"{base}/api/v1/sandboxes", json=body, timeout=120)
    assert created.status_code == 201, created.text[:300]
    sandbox = created.json()
    host = f"{urlsplit(sandbox['url']).hostname}:{port}"
    entered = requests.get(
        base + urlsplit(sandbox["access_url"]).path, headers={"Host": host}, allow_redirects=False, timeout=60
    )
    session = re.search(r"sessionid=([^;]+)", entered.headers.get("Set-Cookie", ""))
    assert entered.status_code == 302, entered.text[:300]
    assert session is not None, entered.headers
    bearer = {"Authorization": f"Bearer {sandbox['access_token']}"}
    api_base = f"{base}/api/v1/sandboxes/{sandbox['sandbox_id']}"
    assets = requests.get(f"{api_base}/assets", headers=bearer, timeout=60).json()
    sensors = requests.get(f"{api_base}/sensors", headers=bearer, timeout=60).json()
    return Target(sandbox["sandbox_id"], host, sandbox["access_token"], session.group(1), assets, sensors)


@dataclass(frozen=True)
class Call:
    group: str
    method: str
    path: str
    headers: dict[str, str]
    json: dict[str, Any] | None = None


def overlay(target: Target, rng: random.Random) -> Call | None:
    """An anomaly or an O2 setpoint on an asset with no live overlay (None when every asset has one)."""
    now = time.monotonic()
    # An O2 setpoint on any asset with flue-gas O2: where the asset's type cannot take one (a reheat furnace,
    # a kiln) the API refuses it with 400 (issue 12's first defect was a 201 that broke the plant), so those
    # posts are a group of their own, whose expected answer is 400.
    with_o2 = {sensor["asset_id"] for sensor in target.sensors if sensor["kind"] == "o2"}
    free = [
        asset
        for asset in target.assets
        if target.overlay_free_at.get(asset["id"], 0.0) <= now
        and (ASSET_TYPES[asset["type"]].anomalies or asset["id"] in with_o2)
    ]
    if not free:
        return None
    asset = rng.choice(free)
    target.overlay_free_at[asset["id"]] = now + OVERLAY_MINUTES * 60 + 5
    bearer = {"Authorization": f"Bearer {target.token}"}
    path = f"/api/v1/sandboxes/{target.sandbox_id}"
    if asset["id"] in with_o2 and (not ASSET_TYPES[asset["type"]].anomalies or rng.random() < 0.3):
        body: dict[str, Any] = {"kind": "o2_setpoint", "asset_id": asset["id"], "parameters": {"o2_pct": 3.0}}
        takes_it = ASSET_TYPES[asset["type"]].overlay_refusal("o2_setpoint") is None
        group = "overlay posts" if takes_it else REFUSED_O2_TRIMS
        return Call(group, "POST", f"{path}/optimizations", bearer, body)
    anomaly = rng.choice(ASSET_TYPES[asset["type"]].anomalies)
    body = {"type": anomaly, "asset_id": asset["id"], "duration_minutes": OVERLAY_MINUTES, "magnitude": 0.5}
    return Call("overlay posts", "POST", f"{path}/anomalies", bearer, body)


def call_pick(target: Target, rng: random.Random, port: int) -> Call:
    """What a prospect does next: mostly the API reads the pages make, some page loads, a few overlays."""
    bearer = {"Authorization": f"Bearer {target.token}"}
    signed_in = {"Host": target.host, "Cookie": f"sessionid={target.session}"}
    api = f"/api/v1/sandboxes/{target.sandbox_id}"
    roll = rng.random()
    if roll < 0.1:
        return Call("api: assets", "GET", f"{api}/assets", bearer)
    if roll < 0.2:
        return Call("api: sensors", "GET", f"{api}/sensors", bearer)
    if roll < 0.4:
        sensor = rng.choice(target.sensors)
        return Call("api: series", "GET", f"{api}/sensors/{sensor['id']}/series", bearer)
    if roll < 0.5:
        return Call("api: alarms", "GET", f"{api}/alarms", bearer)
    if roll < 0.6:
        return Call("api: kpis", "GET", f"{api}/kpis", bearer)
    if roll < 0.7:
        return Call("page: sandbox home", "GET", "/", signed_in)
    if roll < 0.8:
        return Call("page: asset", "GET", f"/assets/{rng.choice(target.assets)['tag']}/", signed_in)
    if roll < 0.9:
        return Call("page: portal home", "GET", "/", {"Host": f"localhost:{port}"})
    return overlay(target, rng) or Call("api: kpis", "GET", f"{api}/kpis", bearer)


@dataclass
class Outcome:
    group: str
    ms: float
    status: int  # 0: no answer (connection error or timeout)


async def prospect(
    n: int, client: httpx.AsyncClient, targets: list[Target], end: float, port: int, outcomes: list[Outcome]
) -> None:
    rng = random.Random(n)  # noqa: S311  (a reproducible mix of requests, not a secret)
    await asyncio.sleep(rng.uniform(*THINK_SECONDS))  # arrive spread out
    while time.time() < end:
        call = call_pick(rng.choice(targets), rng, port)
        started = time.perf_counter()
        try:
            response = await client.request(call.method, call.path, headers=call.headers, json=call.json)
            status = response.status_code
        except httpx.HTTPError:
            status = 0
        outcomes.append(Outcome(call.group, (time.perf_counter() - started) * 1000, status))
        await asyncio.sleep(rng.uniform(*THINK_SECONDS))


async def load_run(
    targets: list[Target], users: int, viewers: int, window: Window
) -> tuple[list[Outcome], list[Viewed]]:
    outcomes: list[Outcome] = []
    limits = httpx.Limits(max_connections=users, max_keepalive_connections=users)
    async with httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{window.port}", limits=limits, timeout=60, follow_redirects=False
    ) as client:
        watching = [
            asyncio.ensure_future(
                watch(targets[n % len(targets)].host.split(".")[0], targets[n % len(targets)].token, window)
            )
            for n in range(viewers)
        ]
        await asyncio.gather(*(prospect(n, client, targets, window.end, window.port, outcomes) for n in range(users)))
        viewed = list(await asyncio.gather(*watching))
    return outcomes, viewed


@dataclass
class Peaks:
    connections: int = 0
    rss_by_kind: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # MiB
    rss_total: float = 0.0
    samples: int = 0


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


# The clients' connections (an autovacuum worker shows up under the database too), and their processes.
CLIENT_BACKENDS = "SELECT pid FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"


def descends_from(pid: int, ancestor: int, table: dict[int, Process]) -> bool:
    while pid in table and pid > 1:
        if pid == ancestor:
            return True
        pid = table[pid].parent
    return False


def sample_until(stop: threading.Event, peaks: Peaks, *, system: int, database: str, redis_port: int) -> None:
    """Every second: the database's connections and the system's resident memory, kept at their peaks."""
    with psycopg.connect("postgres://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        while not stop.wait(1.0):
            backends = [pid for (pid,) in conn.execute(CLIENT_BACKENDS, [database])]
            peaks.connections = max(peaks.connections, len(backends))
            table = processes()
            by_kind: dict[str, float] = defaultdict(float)
            # Each backend's resident memory counts the shared buffers it touched: an upper bound.
            by_kind["PostgreSQL backends"] = sum(rss_mib(pid) for pid in backends)
            for pid in table:
                if not descends_from(pid, system, table):  # another run's uvicorn is not this system's
                    continue
                kind = process_kind(pid, table, system=system, database=database, redis_port=redis_port)
                if kind is not None:
                    by_kind[kind] += rss_mib(pid)
            for kind, mib in by_kind.items():
                peaks.rss_by_kind[kind] = max(peaks.rss_by_kind[kind], mib)
            peaks.rss_total = max(peaks.rss_total, sum(by_kind.values()))
            peaks.samples += 1


def percentiles(values: list[float]) -> str:
    return " / ".join(f"{np.percentile(values, p):.0f}" for p in (50, 95, 99)) if values else "-"


def failed(group: str, status: int) -> bool:
    """No answer, or an answer other than the group's: a refused O2 trim must be a 400, anything else < 400."""
    if group == REFUSED_O2_TRIMS:
        return status != 400
    return status == 0 or status >= 400


def report(
    outcomes: list[Outcome], viewed: list[Viewed], peaks: Peaks, args: argparse.Namespace, window_end: float
) -> int:
    by_group: dict[str, list[Outcome]] = defaultdict(list)
    for outcome in outcomes:
        by_group[outcome.group].append(outcome)
    rows = []
    for group in sorted(by_group):
        done = by_group[group]
        statuses = Counter(outcome.status for outcome in done)
        errors = sum(count for status, count in statuses.items() if failed(group, status))
        server = sum(count for status, count in statuses.items() if status >= 500)
        rows.append(
            (
                group,
                f"{len(done)} requests; p50 / p95 / p99 {percentiles([o.ms for o in done])} ms; "
                f"errors {errors}, 5xx {server}",
            )
        )
    every = Counter(outcome.status for outcome in outcomes)
    server_errors = sum(count for status, count in every.items() if status >= 500)
    received, lost = ticks_lost(viewed)
    expected = len(viewed) * (args.seconds - WARMUP_SECONDS) / LIVE_TICK_SECONDS
    # ticks_lost counts gaps between a sandbox's first and last tick; a plant that stopped ticking
    # shows as the longest silence at a viewer, up to the window's end.
    silences = [float(np.max(np.diff([*one.stamps, window_end]))) for one in viewed if one.stamps]
    rows += [
        (
            "all requests",
            f"{len(outcomes)} ({len(outcomes) / args.seconds:.1f}/s); statuses {dict(sorted(every.items()))}",
        ),
        (
            "websocket viewers: ticks received (of about) / lost; longest silence; refused / dropped",
            f"{received} (of {expected:.0f}) / {lost}; {max(silences, default=float(args.seconds)):.1f} s; "
            f"{sum(v.refused for v in viewed)} / {sum(v.dropped for v in viewed)}",
        ),
        ("peak PostgreSQL connections to the database (pg_stat_activity, each second)", str(peaks.connections)),
        (
            "peak resident memory, MiB",
            ", ".join(f"{kind} {mib:.0f}" for kind, mib in sorted(peaks.rss_by_kind.items()))
            + f"; the system at once {peaks.rss_total:.0f}",
        ),
        (
            "peak resident memory of the bench (clients)",
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB",
        ),
    ]
    print_table(
        rows,
        f"{args.seconds:.0f} s, {args.users} prospects and {args.viewers} websocket viewers over {args.sandboxes} "
        f"sandboxes; {os.cpu_count()} cores shared by the system, the bench and other work; "
        f"{peaks.samples} samples of connections and memory",
    )
    return 1 if server_errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600, help="how long the prospects and viewers run")
    parser.add_argument("--users", type=int, default=24, help="prospects making requests")
    parser.add_argument("--viewers", type=int, default=24, help="websocket viewers of /ws/live/")
    parser.add_argument("--sandboxes", type=int, default=6)
    parser.add_argument("--database", default="demoportal_load", help="made fresh, dropped after")
    parser.add_argument("--port", type=int, default=18760)
    parser.add_argument("--log", default="", help="write the system's output to this file")
    args = parser.parse_args()
    import redis

    env = {
        "LIVE_TICK_SECONDS": str(LIVE_TICK_SECONDS),
        "SANDBOX_POOL_SIZE": "0",
        "DEMO_SANDBOX": "false",
        "DEMO_ADMIN_PASSWORD": "load",
    }
    for db in REDIS_DBS:  # this bench's own: a previous run's groups and counters would count here
        redis.Redis.from_url(redis_url(), db=db).flushdb()
    log = Path(args.log) if args.log else None
    with running_system(database=args.database, redis_dbs=REDIS_DBS, port=args.port, env=env, log=log) as system:
        api = requests.Session()
        api.headers["Authorization"] = f"Token {staff_token(args.database)}"
        with ThreadPoolExecutor(2) as pool:
            targets = list(pool.map(lambda n: target_make(n, api, args.port), range(args.sandboxes)))
        begin = time.time()
        window = Window(port=args.port, start=begin + WARMUP_SECONDS, end=begin + args.seconds)
        peaks, stop = Peaks(), threading.Event()
        redis_port = urlsplit(redis_url()).port or 6379
        sampler = threading.Thread(
            target=sample_until,
            args=(stop, peaks),
            kwargs={"system": system.pid, "database": args.database, "redis_port": redis_port},
        )
        sampler.start()
        try:
            outcomes, viewed = asyncio.run(load_run(targets, args.users, args.viewers, window))
        finally:
            stop.set()
            sampler.join()
    return report(outcomes, viewed, peaks, args, window.end)


if __name__ == "__main__":
    sys.exit(main())
