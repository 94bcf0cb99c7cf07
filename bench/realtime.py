"""The live plant under load: websocket viewers of many sandboxes, and the simulator's CPU per tick.

1. In-process: the CPU of the simulator's ticks for 1,000 watched sandboxes (the five scenarios in
   turn, each its own seed), through its own ``LiveTicker.frames``, one tick a second for four
   minutes after a warm-up: every tick interpolates and builds each sandbox's message, and computes
   a share of the minute after the next (so a new minute needs no engine work); a new minute also
   judges the alarm rules. Then ten of the sandboxes run at 3600×, computed every tick.
2. For each channel layer (the pub/sub layer and the core layer): the whole system as `make run`
   starts it, on a database of its own; M sandboxes made through the API; N websocket viewers on
   loopback, spread evenly over them, each with the sandbox's token, for a bounded time. The viewers
   run in their own processes (``--client-processes``), asyncio and the ``websockets`` library, so
   the harness takes as little of the shared cores as it can, and its share is reported.

   Latency runs from the tick's ``ts`` (the moment the simulator starts computing it) to the viewer's
   receipt. Only ticks computed inside the measured window count (after ``--warmup`` seconds, when
   every viewer is connected and subscribed). A tick is lost when a viewer did not receive a tick its
   sandbox's sequence (``seq``) says was sent in the window: the sequence numbers any viewer of that
   sandbox received, from the first to the last, are what each of its viewers should have. The
   longest gap between two ticks at a viewer shows stalls (a late tick is not a lost one). Latency is
   also given without the ticks of the first seconds of a minute, when the simulator reads every
   watched plant again, so the delivery path and that stall can be told apart.
   The CPU each process used during the window (simulator, web, Redis, PostgreSQL, Celery, the
   viewers) is reported too: everything shares the machine's cores.

    .venv/bin/python bench/realtime.py [--viewers 500] [--sandboxes 250] [--seconds 30]
        [--database demoportal_realtime] [--port 18730] [--web-workers 1] [--client-processes 2]

REDIS_URL (default redis://127.0.0.1:6379) names the Redis server the system under test uses; two
runs on one machine need different databases, ports and Redis servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import subprocess
import sys
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import running_system  # noqa: E402  (after the path is set)
from bench.table import print_table  # noqa: E402

REDIS_DBS = (7, 8, 9)
LAYERS = {
    "pub/sub layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core layer": "channels_redis.core.RedisChannelLayer",
}
MINUTE_TURN = 10  # the simulator reads every watched plant again as a minute turns: its ticks run late
SYSTEM_KINDS = {"simulator", "web (uvicorn)", "Redis", "PostgreSQL", "Celery (workers, beat)"}
INDUSTRIES = ["oil_gas", "chemicals", "steel", "food_beverage", "cement"]


def tick_cpu(sandboxes: int) -> list[tuple[str, str]]:
    """CPU of the simulator's ticks for ``sandboxes`` watched plants, computed in this process through the
    simulator's own ``LiveTicker.frames`` (values, interpolation, alarm rules, the message's dicts), with
    the plants given directly instead of read from a database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")
    import django

    django.setup()
    from demoportal.core import catalogue
    from simulation.engine.live import LiveMember
    from simulation.engine.plant import plant_build
    from simulation.live import LiveSandbox
    from simulation.simulator import LiveTicker

    scenarios = [catalogue.scenarios()[key] for key in INDUSTRIES]
    start = (int(time.time() // 60) + 1) * 60  # a whole minute
    lives = []
    for n in range(sandboxes):
        plant = plant_build(scenarios[n % len(scenarios)], seed=n + 1)
        ids = np.arange(len(plant.sensors), dtype=np.int64) + 1000 * n
        member = LiveMember(plant=plant, base_minute=start // 60 - 60)
        lives.append(LiveSandbox(n, member, ids, member.base_minute, sensor_keys=[str(i) for i in ids.tolist()]))
    sensors = sum(len(live.member.plant.sensors) for live in lives)
    ticker = LiveTicker()
    ticker.sandboxes = {live.sandbox_id: live for live in lives}

    def cpu_ms(now: float) -> float:
        started = time.process_time()
        ticker.frames(now)
        return (time.process_time() - started) * 1000

    first = cpu_ms(start - 90)  # every sandbox fills its cached day of episodes and its two minutes
    for second in range(-89, 0):  # warm-up: the minutes ahead get computed
        cpu_ms(start + second)
    new_minute: list[float] = []
    between: list[float] = []
    for second in range(0, 4 * 60):  # four minutes of 1-second ticks
        (between if second % 60 else new_minute).append(cpu_ms(start + second))
    for live in lives[:10]:  # ten sandboxes in a tour's fast-forward
        live.time_scale, live.clock_wall, live.clock_sim = 3600, float(start), float(start)
    fast = [cpu_ms(start + 4 * 60 + second) for second in range(1, 21)]
    return [
        (
            f"simulator CPU, a new minute's tick ({sandboxes} sandboxes, {sensors} sensors)",
            f"p50 {np.median(new_minute):.0f} ms, max {max(new_minute):.0f} ms",
        ),
        (
            "simulator CPU, the other 59 ticks of a minute (interpolation, a share of the next minute)",
            f"p50 {np.median(between):.1f} ms, max {max(between):.0f} ms",
        ),
        ("simulator CPU, those ticks with 10 of the sandboxes at 3600×", f"p50 {np.median(fast):.1f} ms"),
        ("simulator CPU, the very first tick (every cache filled)", f"{first:.0f} ms"),
    ]


def redis_url() -> str:
    return os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


def sandboxes_make(count: int, api: requests.Session, port: int) -> list[tuple[str, str]]:
    """(slug, access token) of ``count`` new sandboxes, made through the API two at a time."""

    def make(n: int) -> tuple[str, str]:
        body = {"email": f"viewer-{n}@realtime.example", "product": "thermalcommand", "industry": INDUSTRIES[n % 5]}
        response = api.post(f"http://127.0.0.1:{port}/api/v1/sandboxes", json=body, timeout=60)
        assert response.status_code == 201, response.text[:300]
        created = response.json()
        return created["url"].split("//")[1].split(".")[0], created["access_token"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(make, range(count)))


@dataclass
class Viewed:
    """What one viewer received of the ticks computed inside the window."""

    slug: str
    seqs: list[int] = field(default_factory=list)
    latency_ms: list[float] = field(default_factory=list)
    stamps: list[float] = field(default_factory=list)  # the ticks' ts
    dropped: bool = False
    refused: bool = False  # could not connect


@dataclass
class Window:
    port: int
    start: float  # Unix seconds: ticks computed from here on count
    end: float
    grace: float = 3.0  # a tick computed before ``end`` may arrive this much later


async def watch(slug: str, token: str, window: Window) -> Viewed:
    import websockets

    uri = f"ws://{slug}.localhost:{window.port}/ws/live/?token={token}"
    origin = websockets.Origin(f"http://{slug}.localhost:{window.port}")
    viewed = Viewed(slug)
    subscribed = False
    try:
        socket = await websockets.connect(
            uri, host="127.0.0.1", port=window.port, origin=origin, max_size=2**22, open_timeout=60
        )
    except (OSError, TimeoutError, websockets.InvalidHandshake):
        viewed.refused = True
        return viewed
    async with socket:
        while time.time() < window.end + window.grace:
            try:
                text = await asyncio.wait_for(socket.recv(), timeout=max(0.1, window.end + window.grace - time.time()))
            except TimeoutError:
                break
            except websockets.ConnectionClosed:
                viewed.dropped = True
                break
            received = time.time()
            message = json.loads(text)
            if message["type"] != "tick":
                continue
            if not subscribed:  # as a page does: only the ten or so values it shows
                await socket.send(
                    json.dumps({"type": "subscribe", "sensors": [int(k) for k in list(message["values"])[:10]]})
                )
                subscribed = True
                continue
            sent = datetime.fromisoformat(message["ts"]).timestamp()
            if window.start <= sent < window.end:
                viewed.seqs.append(int(message.get("seq", round(sent))))  # no seq yet: the second
                viewed.stamps.append(sent)
                viewed.latency_ms.append((received - sent) * 1000)
    return viewed


async def viewers_run(targets: list[tuple[str, str]], window: Window) -> list[Viewed]:
    tasks = []
    for n, (slug, token) in enumerate(targets):
        tasks.append(asyncio.ensure_future(watch(slug, token, window)))
        if n % 25 == 24:
            await asyncio.sleep(0.2)  # connect in waves, as real visitors arrive
    return list(await asyncio.gather(*tasks))


def viewers_process(targets: list[tuple[str, str]], window: Window) -> tuple[list[Viewed], float]:
    """One client process's viewers; also the CPU seconds the process used."""
    started = time.process_time()
    viewed = asyncio.run(viewers_run(targets, window))
    return viewed, time.process_time() - started


def ticks_lost(viewed: list[Viewed]) -> tuple[int, int]:
    """(received, lost): each viewer should have every seq its sandbox's viewers saw, first to last."""
    by_sandbox: dict[str, list[Viewed]] = defaultdict(list)
    for one in viewed:
        by_sandbox[one.slug].append(one)
    received = lost = 0
    for same in by_sandbox.values():
        seen = [seq for one in same for seq in one.seqs]
        if not seen:
            continue
        expected = set(range(min(seen), max(seen) + 1))
        for one in same:
            received += len(set(one.seqs))
            lost += len(expected - set(one.seqs))
    return received, lost


@dataclass
class Process:
    command: str
    parent: int
    cpu: float  # seconds so far


def processes() -> dict[int, Process]:
    """Every process on the machine, read from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        found[int(entry.name)] = Process(command, int(fields[1]), (int(fields[11]) + int(fields[12])) / ticks)
    return found


def process_kind(pid: int, table: dict[int, Process], *, system: int, database: str, redis_port: int) -> str | None:
    """What a process is to this run, or None when it is not part of it (other work on the machine).
    A process the system or this bench started is known by its own command or its parent's (uvicorn's
    workers are ``multiprocessing.spawn`` children)."""
    kinds = {
        "run_simulator": "simulator",
        "uvicorn": "web (uvicorn)",
        "celery": "Celery (workers, beat)",
        f"redis-server 127.0.0.1:{redis_port}": "Redis",
        f"postgres: postgres {database} ": "PostgreSQL",
    }
    line, at = [], pid
    while at in table and at > 1:
        line.append(at)
        at = table[at].parent
    for ancestor in line if system in line else line[:1]:
        kind = next((kind for needle, kind in kinds.items() if needle in table[ancestor].command), None)
        if kind is not None:
            return kind
    if system not in line and os.getpid() in line[1:]:  # the system is this bench's child too
        return "viewers (bench clients)"
    return None


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent not idle since boot (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def cpu_by_kind(
    before: dict[int, Process], after: dict[int, Process], *, system: int, database: str, redis_port: int
) -> dict[str, float]:
    used: dict[str, float] = defaultdict(float)
    for pid, process in after.items():
        kind = process_kind(pid, after, system=system, database=database, redis_port=redis_port)
        if kind is not None:
            earlier = before.get(pid)
            used[kind] += process.cpu - (earlier.cpu if earlier and earlier.command == process.command else 0.0)
    return used


def queues_drain(broker: Any, timeout: float = 180) -> None:
    """Wait until the Celery queues are empty: the window measures the live plant, not the set-up."""
    deadline = time.monotonic() + timeout
    while any(broker.llen(queue) for queue in ("default", "warmup")) and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # the last tasks taken off the queue finish


def staff_token(database: str) -> str:
    """An API token for the admin login, made the way an operator does (``drf_create_token``)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": redis_url(),
        "REDIS_CACHE_DB": str(REDIS_DBS[1]),
    }
    made = subprocess.run(
        [sys.executable, "manage.py", "drf_create_token", "admin@example.com"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return made.stdout.split()[2]  # "Generated token <key> for user admin@example.com"


def layer_run(name: str, backend: str, args: argparse.Namespace) -> list[tuple[str, str]]:
    import redis

    env = {
        "CHANNEL_LAYER_BACKEND": backend,
        "LIVE_TICK_SECONDS": "1",
        "SANDBOX_POOL_SIZE": "0",
        "MAX_ACTIVE_SANDBOXES": "100000",
        "SANDBOX_REQUESTS_PER_MINUTE": "1000000",
        "DEMO_SANDBOX": "false",
        "DEMO_ADMIN_PASSWORD": "realtime-bench",
        "WEB_CONCURRENCY": str(args.web_workers),  # uvicorn's own setting for --workers
    }
    log = Path(args.log) if args.log else None
    for db in REDIS_DBS:  # this bench's own: a previous run's groups would still receive every tick
        redis.Redis.from_url(redis_url(), db=db).flushdb()
    with running_system(database=args.database, redis_dbs=REDIS_DBS, port=args.port, env=env, log=log) as system:
        api = requests.Session()
        api.headers["Authorization"] = f"Token {staff_token(args.database)}"
        targets = sandboxes_make(args.sandboxes, api, args.port)
        queues_drain(redis.Redis.from_url(redis_url(), db=REDIS_DBS[0]))  # each new sandbox warms its KPIs
        random.shuffle(targets)
        spread = [targets[n % len(targets)] for n in range(args.viewers)]
        begin = time.time()
        window = Window(port=args.port, start=begin + args.warmup, end=begin + args.warmup + args.seconds)
        shares = [spread[n :: args.client_processes] for n in range(args.client_processes)]
        with ProcessPoolExecutor(args.client_processes, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(viewers_process, share, window) for share in shares]
            time.sleep(max(0.0, window.start - time.time()))
            before, busy_before = processes(), machine_busy_seconds()
            time.sleep(max(0.0, window.end - time.time()))
            after, busy = processes(), machine_busy_seconds() - busy_before
            results = [future.result() for future in futures]
        memory = redis.Redis.from_url(redis_url(), db=REDIS_DBS[2]).info("memory")["used_memory"]
    viewed = [one for share, _ in results for one in share]
    latency = np.array([ms for one in viewed for ms in one.latency_ms])
    received, lost = ticks_lost(viewed)
    away = np.array(
        [ms for one in viewed for ms, ts in zip(one.latency_ms, one.stamps, strict=True) if ts % 60 >= MINUTE_TURN]
    )
    gaps = [float(np.max(np.diff(one.stamps))) for one in viewed if len(one.stamps) > 1]
    used = cpu_by_kind(
        before, after, system=system.pid, database=args.database, redis_port=urlsplit(redis_url()).port or 6379
    )
    used["anything else on the machine"] = busy - sum(used.values())
    label = f"{name}: {args.viewers} viewers over {args.sandboxes} sandboxes, {args.seconds:.0f} s"
    rows = [
        (
            f"{label}, tick → viewer latency",
            " ".join(f"p{p} {np.percentile(latency, p):.0f} ms" for p in (50, 95, 99)) if len(latency) else "none",
        ),
        (
            f"{name}: the same, ticks computed {MINUTE_TURN} s or more after a minute turned",
            " ".join(f"p{p} {np.percentile(away, p):.0f} ms" for p in (50, 95, 99)) if len(away) else "none",
        ),
        (f"{name}: ticks received / lost at steady state", f"{received} / {lost}"),
        (f"{name}: longest gap between two ticks at a viewer", f"{max(gaps, default=0):.1f} s"),
        (
            f"{name}: sockets refused / dropped",
            f"{sum(one.refused for one in viewed)} / {sum(one.dropped for one in viewed)}",
        ),
        (f"{name}: Redis used memory at the end", f"{memory / 2**20:.1f} MiB"),
        (
            f"{name}: the system's CPU per delivered tick (all but the viewers and other work)",
            f"{1e6 * sum(seconds for kind, seconds in used.items() if kind in SYSTEM_KINDS) / max(received, 1):.0f} µs",
        ),
        (
            f"{name}: CPU during the window, % of one core",
            ", ".join(f"{kind} {100 * seconds / args.seconds:.0f}" for kind, seconds in sorted(used.items())),
        ),
    ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--sandboxes", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=30, help="the measured window")
    parser.add_argument("--warmup", type=float, default=8, help="seconds to connect and subscribe before it")
    parser.add_argument("--cpu-sandboxes", type=int, default=1000, help="0 to skip the in-process CPU measurement")
    parser.add_argument("--layers", default=",".join(LAYERS), help="which channel layers to measure")
    parser.add_argument("--database", default="demoportal_realtime", help="made fresh, dropped after")
    parser.add_argument("--port", type=int, default=18730)
    parser.add_argument("--web-workers", type=int, default=1, help="uvicorn processes (WEB_CONCURRENCY)")
    parser.add_argument("--client-processes", type=int, default=2, help="processes the viewers run in")
    parser.add_argument("--log", default="", help="write the system's output to this file")
    args = parser.parse_args()
    rows = tick_cpu(args.cpu_sandboxes) if args.cpu_sandboxes else []
    for name in filter(None, args.layers.split(",")):
        rows += layer_run(name, LAYERS[name], args)
    print_table(
        rows,
        f"{os.cpu_count()} cores shared by everything; {args.web_workers} uvicorn process(es), "
        f"viewers in {args.client_processes} process(es), simulator, Celery, PostgreSQL and Redis on loopback",
    )


if __name__ == "__main__":
    main()
