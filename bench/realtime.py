"""The live plant under load: websocket viewers of many sandboxes, and the simulator's CPU per tick.

1. In-process: the CPU of the simulator's ticks for 1,000 watched sandboxes (the five scenarios in
   turn, each its own seed), through its own ``LiveTicker.frames``, one tick a second for four
   minutes after a warm-up: every tick interpolates and builds each sandbox's message, and computes
   a share of the minute after the next (so a new minute needs no engine work); a new minute also
   judges the alarm rules. Then ten of the sandboxes run at 3600×, computed every tick.
2. For each channel layer (the pub/sub layer and the core layer): the whole system as `make run`
   starts it, on a database of its own; M sandboxes made through the API; N websocket viewers on
   loopback, spread evenly over them, each with the sandbox's token, for a bounded time. Latency is
   from the tick's timestamp (taken before the values are computed) to the viewer's receipt; a tick
   is lost when a viewer's consecutive ticks are more than 1.5 intervals apart.

    .venv/bin/python bench/realtime.py [--viewers 500] [--sandboxes 250] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import numpy as np
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import running_system  # noqa: E402  (after the path is set)
from bench.table import print_table  # noqa: E402

DATABASE = "demoportal_realtime"
PORT = 18730
REDIS_DBS = (7, 8, 9)
LAYERS = {
    "pub/sub layer": "channels_redis.pubsub.RedisPubSubChannelLayer",
    "core layer": "channels_redis.core.RedisChannelLayer",
}
INDUSTRIES = ["oil_gas", "chemicals", "steel", "food_beverage", "cement"]


def tick_cpu(sandboxes: int) -> list[tuple[str, str]]:
    """CPU of the simulator's ticks for ``sandboxes`` watched plants, computed in this process through the
    simulator's own ``LiveTicker.frames`` (values, interpolation, alarm rules, the message's dicts), with
    the plants given directly instead of read from a database."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")
    import django

    django.setup()
    from demoportal import catalogue
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


def sandboxes_make(count: int, api: requests.Session) -> list[tuple[str, str]]:
    """(slug, access token) of ``count`` new sandboxes, made through the API two at a time."""

    def make(n: int) -> tuple[str, str]:
        body = {"email": f"viewer-{n}@realtime.example", "product": "thermalcommand", "industry": INDUSTRIES[n % 5]}
        response = api.post(f"http://127.0.0.1:{PORT}/api/v1/sandboxes", json=body, timeout=60)
        assert response.status_code == 201, response.text[:300]
        created = response.json()
        return created["url"].split("//")[1].split(".")[0], created["access_token"]

    with ThreadPoolExecutor(2) as pool:
        return list(pool.map(make, range(count)))


async def watch(slug: str, token: str, seconds: float, interval: float, record: dict[str, list[float]]) -> None:
    import websockets

    uri = f"ws://{slug}.localhost:{PORT}/ws/live/?token={token}"
    origin = websockets.Origin(f"http://{slug}.localhost:{PORT}")
    stamps: list[float] = []
    subscribed = False
    async with websockets.connect(uri, host="127.0.0.1", port=PORT, origin=origin, max_size=2**22) as socket:
        deadline = time.time() + seconds
        while time.time() < deadline:
            try:
                text = await asyncio.wait_for(socket.recv(), timeout=max(0.1, deadline - time.time()))
            except TimeoutError:
                break
            except websockets.ConnectionClosed:
                record["dropped"].append(1.0)
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
            stamps.append(sent)
            record["latency"].append((received - sent) * 1000)
    steady = [stamp for stamp in stamps if stamp > stamps[0] + 3] if stamps else []  # after warm-up
    gaps = np.diff(steady) if len(steady) > 1 else np.array([])
    record["lost"].append(float(sum(round(float(gap) / interval) - 1 for gap in gaps if gap > 1.5 * interval)))
    record["received"].append(float(len(steady)))


async def viewers(
    targets: list[tuple[str, str]], count: int, seconds: float, interval: float
) -> dict[str, list[float]]:
    record: dict[str, list[float]] = {"latency": [], "lost": [], "received": [], "dropped": []}
    tasks = []
    for n in range(count):
        slug, token = targets[n % len(targets)]
        tasks.append(watch(slug, token, seconds, interval, record))
        if n % 50 == 49:
            await asyncio.sleep(0.2)  # connect in waves, as real visitors arrive
    await asyncio.gather(*(asyncio.ensure_future(task) for task in tasks))
    return record


def staff_token() -> str:
    """An API token for the admin login, made the way an operator does (``drf_create_token``)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
        "REDIS_URL": "redis://127.0.0.1:6379",
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
    }
    with running_system(database=DATABASE, redis_dbs=REDIS_DBS, port=PORT, env=env):
        api = requests.Session()
        token = staff_token()
        api.headers["Authorization"] = f"Token {token}"
        targets = sandboxes_make(args.sandboxes, api)
        random.shuffle(targets)
        record = asyncio.run(viewers(targets, args.viewers, args.seconds, 1.0))
        memory = redis.Redis.from_url("redis://127.0.0.1:6379").info("memory")["used_memory"]
    latency = np.array(record["latency"])
    label = f"{name}: {args.viewers} viewers over {args.sandboxes} sandboxes, {args.seconds:.0f} s"
    return [
        (f"{label}, tick → viewer latency", " ".join(f"p{p} {np.percentile(latency, p):.0f} ms" for p in (50, 95, 99))),
        (
            f"{name}: ticks received / lost at steady state",
            f"{sum(record['received']):.0f} / {sum(record['lost']):.0f}",
        ),
        (f"{name}: Redis used memory at the end", f"{memory / 2**20:.1f} MiB"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--viewers", type=int, default=500)
    parser.add_argument("--sandboxes", type=int, default=250)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--cpu-sandboxes", type=int, default=1000)
    parser.add_argument("--layers", default=",".join(LAYERS), help="which channel layers to measure")
    args = parser.parse_args()
    rows = tick_cpu(args.cpu_sandboxes)
    for name in filter(None, args.layers.split(",")):
        rows += layer_run(name, LAYERS[name], args)
    print_table(rows, f"{os.cpu_count()} cores; viewers, web (2 uvicorn), simulator, PostgreSQL and Redis on loopback")


if __name__ == "__main__":
    main()
