"""Sandbox lifecycle against the running system: provisioning cold and from the warm pool, reset, extend,
destroy; then 1,000 live sandboxes — what they cost in PostgreSQL and memory, and whether the API still
answers quickly.

    .venv/bin/python bench/lifecycle.py [--runs 50] [--sandboxes 1000] [--load-seconds 30] [--clients 4]

Starts the whole system as `make run` does (`demoportal.devstack run`: uvicorn, Celery workers, beat,
simulator) on its own database (demoportal_lifecycle) and Redis databases 13-15, so a running
`make run` is untouched, and talks to it over HTTP on loopback with a staff token. The server's pool
size is 0, so "cold" is a clone made during the request; for "warm" the bench fills the pools first.
Everything is dropped at the end. Prints a table; copy it into docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import running_system  # noqa: E402  (after the path is set)

DATABASE = "demoportal_lifecycle"
PORT = 18710
BASE = f"http://127.0.0.1:{PORT}"
INDUSTRIES = ["oil_gas", "chemicals", "steel", "food_beverage", "cement"]
ENV = {
    "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
    "REDIS_URL": "redis://127.0.0.1:6379",
    "REDIS_BROKER_DB": "13",
    "REDIS_CACHE_DB": "14",
    "REDIS_CHANNELS_DB": "15",
    "SANDBOX_POOL_SIZE": "0",
    "MAX_ACTIVE_SANDBOXES": "100000",
    "SANDBOX_REQUESTS_PER_MINUTE": "1000000",
    "DJANGO_SETTINGS_MODULE": "demoportal.settings.local",
}


def pss_kib(pid: int) -> int:
    """Proportional set size: shared pages split among the processes sharing them, so sums are honest."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def processes() -> list[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        parent = int(text[text.rindex(")") + 2 :].split()[1])
        found.append((int(stat.parent.name), parent, name))
    return found


def memory_mib(launcher: int) -> dict[str, float]:
    table = processes()
    tree = {launcher}
    for _ in range(6):  # launcher -> honcho -> shell -> process -> pool children
        tree |= {pid for pid, parent, _ in table if parent in tree}
    app = sum(pss_kib(pid) for pid in tree) / 1024
    postgres = sum(pss_kib(pid) for pid, _, name in table if name.startswith("postgres")) / 1024
    import redis

    redis_bytes = int(redis.Redis.from_url(ENV["REDIS_URL"]).info("memory")["used_memory"])
    return {"app": app, "postgres": postgres, "redis": redis_bytes / 1024**2}


def percentiles(values: list[float]) -> str:
    return f"p50 {np.percentile(values, 50):.0f} ms, p95 {np.percentile(values, 95):.0f} ms"


def load_test(
    made: list[int], slugs: dict[int, str], token: str, clients: int, seconds: float
) -> list[tuple[str, str]]:
    """``clients`` closed-loop clients for ``seconds``, each request for a random sandbox."""
    latencies: dict[str, list[float]] = {}
    errors: list[int] = []
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        rng = random.Random(threading.get_ident())  # noqa: S311  # picking pages, not secrets
        while time.monotonic() < stop:
            sandbox_id = rng.choice(made)
            kind = rng.choice(["detail", "assets", "sensors", "events", "kpis", "home"])
            url, headers = f"{BASE}/api/v1/sandboxes/{sandbox_id}/{kind}", {}
            if kind == "home":
                url, headers = f"{BASE}/", {"Host": f"{slugs[sandbox_id]}.localhost:{PORT}"}
            elif kind == "detail":
                url = f"{BASE}/api/v1/sandboxes/{sandbox_id}"
            began = time.perf_counter()
            response = session.get(url, headers=headers)
            elapsed = (time.perf_counter() - began) * 1000
            with lock:
                latencies.setdefault(kind, []).append(elapsed)
                if response.status_code != 200:
                    errors.append(response.status_code)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [value for values in latencies.values() for value in values]
    rows = [
        (
            f"API with the sandboxes live, {clients} clients for {seconds:.0f} s, random sandboxes, six requests",
            f"{percentiles(every)}, p99 {np.percentile(every, 99):.0f} ms;"
            f" {len(every) / seconds:.0f} requests/s; {len(errors)} errors",
        )
    ]
    return rows + [(f"… {kind}", percentiles(values)) for kind, values in sorted(latencies.items())]


def main() -> None:
    from bench.table import print_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--sandboxes", type=int, default=1000)
    parser.add_argument("--load-seconds", type=float, default=30)
    parser.add_argument("--clients", default="2,4", help="concurrent API clients, one load test per number")
    parser.add_argument("--web-workers", type=int, default=os.cpu_count() or 1, help="uvicorn processes")
    args = parser.parse_args()

    os.environ.update(ENV)  # this process reads the same database (django.setup() in measure)
    os.environ["WEB_CONCURRENCY"] = str(args.web_workers)  # uvicorn's own setting for --workers
    rows: list[tuple[str, str]] = []
    try:
        with running_system(database=DATABASE, redis_dbs=(13, 14, 15), port=PORT, env=ENV) as launcher:
            rows += measure(args, launcher.pid)
    finally:
        import redis

        for db in (13, 14, 15):
            redis.Redis.from_url(f"{ENV['REDIS_URL']}/{db}").flushdb()
    print_table(rows, f"{os.cpu_count()} cores, {args.web_workers} uvicorn worker(s), PostgreSQL and Redis on loopback")


def measure(args: argparse.Namespace, launcher: int) -> list[tuple[str, str]]:
    import django

    django.setup()
    from django.db import connection
    from django.test import override_settings
    from rest_framework.authtoken.models import Token

    from demoportal.core.models import User
    from sandboxes.models import Sandbox
    from sandboxes.selectors import storage_by_schema
    from sandboxes.services import pool_refill

    staff, _ = User.objects.get_or_create(email="bench-lifecycle@example.com", defaults={"is_staff": True})
    token, _ = Token.objects.get_or_create(user=staff)
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token.key}"
    timings: dict[str, list[float]] = {}
    emails = iter(f"bench-{n}@plant.example" for n in range(10**6))

    def timed(name: str, method: str, url: str, expected: int, body: dict[str, Any] | None = None) -> Any:
        started = time.perf_counter()
        response = api.request(method, url, json=body)
        timings.setdefault(name, []).append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected, (response.status_code, response.text[:500])
        return response.json() if response.content else None

    def create(name: str, industry: str) -> int:
        body = {"email": next(emails), "product": "thermalcommand", "industry": industry}
        created = timed(name, "POST", f"{BASE}/api/v1/sandboxes", 201, body)
        assert created["status"] == "ready"
        return int(created["sandbox_id"])

    def lifecycle(ids: list[int]) -> None:
        for sandbox_id in ids:
            url = f"{BASE}/api/v1/sandboxes/{sandbox_id}"
            timed("reset", "POST", f"{url}/reset", 200)
            timed("extend", "POST", f"{url}/extend", 200, {"hours": 24, "reason": "benchmark"})
            timed("destroy", "DELETE", url, 204)

    # Cold: the pool is empty, every sandbox is cloned during the request.
    cold = [create("cold", INDUSTRIES[run % 5]) for run in range(args.runs)]
    lifecycle(cold)
    # Warm: the pools are filled first (as the warm-up worker does), then each request claims a clone.
    with override_settings(SANDBOX_POOL_SIZE=-(-args.runs // 5)):
        pool_refill()
    warm = [create("warm", INDUSTRIES[run % 5]) for run in range(args.runs)]
    claimed = Sandbox.objects.filter(pk__in=warm, audit_entries__action="claim").count()
    assert claimed == len(warm), f"only {claimed} of {len(warm)} came from the pool"
    for sandbox_id in warm:
        timed("destroy", "DELETE", f"{BASE}/api/v1/sandboxes/{sandbox_id}", 204)

    rows = [
        (f"cold provisioning: POST /api/v1/sandboxes, pool empty ({args.runs} runs)", percentiles(timings["cold"])),
        (f"warm claim: POST /api/v1/sandboxes from the pool ({args.runs} runs)", percentiles(timings["warm"])),
        (f"reset ({len(timings['reset'])} runs)", percentiles(timings["reset"])),
        (f"extend ({len(timings['extend'])} runs)", percentiles(timings["extend"])),
        (f"destroy ({len(timings['destroy'])} runs)", percentiles(timings["destroy"])),
    ]

    # 1,000 live sandboxes, made through the API by two clients at once.
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size_before = cursor.fetchone()[0]
    memory_before = memory_mib(launcher)
    made: list[int] = []
    lock = threading.Lock()

    def maker(offset: int) -> None:
        for n in range(offset, args.sandboxes, 2):
            sandbox_id = create("bulk", INDUSTRIES[n % 5])
            with lock:
                made.append(sandbox_id)

    started = time.monotonic()
    threads = [threading.Thread(target=maker, args=(offset,)) for offset in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    bulk_seconds = time.monotonic() - started
    assert len(made) == args.sandboxes, f"made {len(made)} of {args.sandboxes}"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_database_size(current_database())")
        size_after = cursor.fetchone()[0]
    live = list(Sandbox.objects.filter(pk__in=made))
    schema_sizes = list(storage_by_schema([s.schema_name for s in live]).values())
    memory_after = memory_mib(launcher)
    rows += [
        (
            f"{args.sandboxes} sandboxes made through the API (2 clients)",
            f"{bulk_seconds:.0f} s, {args.sandboxes / bulk_seconds:.1f} per second",
        ),
        (
            "PostgreSQL bytes per sandbox",
            f"{(size_after - size_before) / args.sandboxes / 1024**2:.2f} MiB database growth each;"
            f" schema tables and indexes {np.median(schema_sizes) / 1024:.0f} KiB median",
        ),
        (
            f"memory (PSS) with {args.sandboxes} live sandboxes",
            f"app processes {memory_after['app']:.0f} MiB, PostgreSQL {memory_after['postgres']:.0f} MiB,"
            f" Redis {memory_after['redis']:.0f} MiB (before: {memory_before['app']:.0f} /"
            f" {memory_before['postgres']:.0f} / {memory_before['redis']:.0f})",
        ),
    ]

    # The API under load with the sandboxes live: random sandboxes, a mix of the endpoints a page uses.
    slugs = {s.pk: s.slug for s in live}
    for clients in (int(n) for n in args.clients.split(",")):
        rows += load_test(made, slugs, token.key, clients, args.load_seconds)

    started = time.monotonic()
    for sandbox in Sandbox.objects.filter(kind="demo"):
        sandbox.delete(force_drop=True)
    rows.append((f"dropping {len(made) + 2 * args.runs} sandboxes", f"{time.monotonic() - started:.0f} s"))
    return rows


if __name__ == "__main__":
    main()
