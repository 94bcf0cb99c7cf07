"""Marketing's dashboards at scale: the rollup refresh over a million (or ten million) events, then the three
dashboards' API, the admin's pages and the demo export, over real HTTP to one web process.

    .venv/bin/python -m demoportal.devstack exec -- .venv/bin/python -m bench.dashboards [--events 1000000]
        [--ten-million] [--reuse] [--database demoportal_dashboards] [--port 18792] [--requests 40]

On a database of its own (made fresh unless ``--reuse`` finds it filled with the events asked for; kept at the
end, so a second run measures the pages again without filling) and Redis databases 3-5 of REDIS_URL (never
flushed). In order:

1. ``sample_activity_create`` with ``--events`` / 11.3 leads (about 11 events each), written, scored and rolled
   up in this process; the rollups are then rebuilt from scratch (``rollups_rebuild``) and timed alone, then
   the lead snapshot every refresh takes (``leads_snapshot``), five times.
   ``--ten-million``: 10,000,000 events, reached by **copies** of the sample's people and demos (each person
   copied with their lead, each sandbox with its events, by ``INSERT … SELECT``, shifted back by a few hours
   per copy, so the 30- and 90-day ranges hold ten times the demos and the leads) where generating them would
   take too long; the copies are labelled as such;
2. one web process as the Procfile starts it (uvicorn, local settings), with no worker, beat or simulator
   (beat's minute refresh would otherwise take the stale demos under the bench's own);
3. ``--requests`` GETs of each API endpoint by a superuser's token: the default range (30 days), 90 days, each
   with and without a product filter; p50 / p95 / max;
4. the admin's three dashboard pages (a superuser's session) and the streamed export of the demos
   (``.csv`` and ``.xlsx``): time to first byte, total time and the web process's peak RSS while it streams,
   where this build has them (else "pending").

Prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import ADMIN_DATABASE  # noqa: E402  (after the path is set)
from bench.table import print_table  # noqa: E402

REDIS_DBS = (3, 4, 5)
EVENTS_PER_LEAD = 11.3  # what sample_activity_create writes per lead, on average
TEN_MILLION = 10_000_000
COPY_SHIFT = timedelta(hours=3)  # each copy of the sample's demos starts this much earlier than the one before
ADMIN_PAGES = ("demo-performance", "lead-quality", "product-engagement")
EXPORTS = ("demos.csv", "demos.xlsx")
SNAPSHOTS = 5  # lead snapshots timed


def environment(database: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
        "REDIS_BROKER_DB": str(REDIS_DBS[0]),
        "REDIS_CACHE_DB": str(REDIS_DBS[1]),
        "REDIS_CHANNELS_DB": str(REDIS_DBS[2]),
        "SANDBOX_POOL_SIZE": "0",
        "SANDBOX_RETENTION_DAYS": "3650",
        "DJANGO_SETTINGS_MODULE": "demoportal.settings.local",
    }


def ms(values: list[float]) -> str:
    a = np.array(values) * 1000
    return f"p50 {np.percentile(a, 50):.0f} ms, p95 {np.percentile(a, 95):.0f} ms, max {a.max():.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--ten-million", action="store_true", help="10,000,000 events, by copies of the sample")
    parser.add_argument("--reuse", action="store_true", help="keep the database's events if there are enough")
    parser.add_argument("--database", default="demoportal_dashboards")
    parser.add_argument("--port", type=int, default=18792)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args()
    os.environ.update(environment(args.database))
    import django

    django.setup()
    rows = fill(args)
    with web_process(args.port) as web:
        base = f"http://127.0.0.1:{args.port}"
        rows += api_latencies(base, args.requests)
        rows += admin_pages(base, web, args.requests)
    load = os.getloadavg()
    print_table(
        rows,
        f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GB;"
        " PostgreSQL and Redis on loopback; one uvicorn process (local settings, `DATABASE_POOL=true`);"
        f" load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)",
    )


# 1. The events and their rollups


def database_ensure(name: str, *, fresh: bool) -> None:
    with psycopg.connect(ADMIN_DATABASE, autocommit=True) as conn:
        if fresh:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(f"CREATE DATABASE {name}")


def fill(args: argparse.Namespace) -> list[tuple[str, str]]:
    from django.core.management import call_command
    from django.db import connection

    from analytics.models import DemoSummary, Event, Lead
    from analytics.services.rollups import leads_snapshot, rollups_rebuild
    from analytics.services.sample import sample_activity_create
    from sandboxes.services import portal_tenant_ensure

    wanted = TEN_MILLION if args.ten_million else args.events
    generated = min(wanted, args.events)
    connection.close()
    database_ensure(args.database, fresh=not args.reuse)
    call_command("migrate_schemas", shared=True, verbosity=0)  # the sample's sandboxes have no schema to migrate
    portal_tenant_ensure()  # the portal's hosts, 127.0.0.1 among them (not `bootstrap`: it makes sample data)
    rows: list[tuple[str, str]] = []
    if Event.objects.count() < wanted * 0.95:
        sample = sample_activity_create(leads=round(generated / EVENTS_PER_LEAD), seed=args.seed)
        rows += [
            (
                f"sample_activity: {sample.people:,} leads, {sample.events:,} events, {sample.sandboxes:,} demos",
                f"written {sample.write_seconds:.0f} s, scored {sample.score_seconds:.0f} s,"
                f" rolled up {sample.rollup_seconds:.1f} s ({sample.sandboxes / sample.rollup_seconds:,.0f} demos/s)",
            )
        ]
        if wanted > sample.events:
            copies = max(0, round(wanted / sample.events) - 1)
            started = time.monotonic()
            demos_copy(copies)
            rows.append(
                (
                    f"… copied {copies}×, to {Event.objects.count():,} events and {Lead.objects.count():,} leads"
                    f" (**copies** of the sample's people and demos, each {COPY_SHIFT.total_seconds() / 3600:.0f} h"
                    " earlier)",
                    f"{time.monotonic() - started:.0f} s by INSERT … SELECT",
                )
            )
    events, demos = Event.objects.count(), Event.objects.filter(name="demo_started").count()
    started = time.monotonic()
    rollups_rebuild()
    took = time.monotonic() - started
    rows.append(
        (
            f"`rollups_rebuild`: {demos:,} demos of {events:,} events summarised, every day rolled up",
            f"{took:.1f} s ({DemoSummary.objects.count() / took:,.0f} demos/s)",
        )
    )
    # What every refresh does on top of its stale demos, even with none: the lead snapshot, taken whole.
    timings = []
    for _ in range(SNAPSHOTS):
        started = time.monotonic()
        leads = leads_snapshot()
        timings.append(time.monotonic() - started)
    rows.append(
        (
            f"`leads_snapshot` (each refresh): {leads:,} leads by day × segment × grade × band, and by account",
            f"median {statistics.median(timings):.2f} s, max {max(timings):.2f} s of {SNAPSHOTS}",
        )
    )
    return rows


def columns_of(cursor: Any, table: str, besides: tuple[str, ...]) -> str:
    cursor.execute(
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
        " WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped AND attname <> ALL(%s)",
        [table, list(besides)],
    )
    return str(cursor.fetchone()[0])


def demos_copy(copies: int) -> None:
    """``copies`` copies of every sample sandbox and its events, and of every sample person and their lead, each
    copy shifted ``COPY_SHIFT`` earlier than the one before (a copy's events are its copied person's, so the
    leads grow with the events as real ones would); marked stale for the rebuild that follows."""
    from django.db import connection, transaction

    from analytics.services.sample import SAMPLE_DOMAIN, SAMPLE_SLUG_PREFIX

    with transaction.atomic(), connection.cursor() as cursor:
        columns = columns_of(cursor, "sandboxes_sandbox", ("id", "slug", "schema_name"))
        user_columns = columns_of(cursor, "demoportal_user", ("id", "email"))
        lead_columns = columns_of(cursor, "analytics_lead", ("id", "user_id"))
        for n in range(1, copies + 1):
            shift = f"{COPY_SHIFT.total_seconds() * n:.0f} seconds"
            cursor.execute(
                "CREATE TEMPORARY TABLE copied_users ON COMMIT DROP AS SELECT id AS original,"
                " nextval(pg_get_serial_sequence('demoportal_user', 'id')) AS id"
                " FROM demoportal_user WHERE email LIKE %s AND email NOT LIKE %s",
                [f"%.{SAMPLE_DOMAIN}", "%+copy%"],
            )
            cursor.execute(
                f"INSERT INTO demoportal_user (id, email, {user_columns})"  # noqa: S608
                f" SELECT c.id, replace(u.email, '@', '+copy' || %s || '@'), {user_columns}"
                " FROM copied_users AS c JOIN demoportal_user AS u ON u.id = c.original",
                [n],
            )
            cursor.execute(
                f"INSERT INTO analytics_lead (user_id, {lead_columns})"  # noqa: S608
                f" SELECT c.id, {lead_columns} FROM copied_users AS c"
                " JOIN analytics_lead AS l ON l.user_id = c.original"
            )
            cursor.execute(
                "UPDATE analytics_lead SET created_at = created_at - %s::interval"
                " WHERE user_id IN (SELECT id FROM copied_users)",
                [shift],
            )
            cursor.execute(
                "CREATE TEMPORARY TABLE copied ON COMMIT DROP AS SELECT id AS original,"
                " nextval(pg_get_serial_sequence('sandboxes_sandbox', 'id')) AS id"
                " FROM sandboxes_sandbox WHERE slug LIKE %s AND slug NOT LIKE %s",
                [f"{SAMPLE_SLUG_PREFIX}%", "%-copy-%"],
            )
            cursor.execute(
                f"INSERT INTO sandboxes_sandbox (id, slug, schema_name, {columns})"  # noqa: S608
                f" SELECT c.id, s.slug || '-copy-' || %s, s.schema_name || '_copy_' || %s, {columns}"
                " FROM copied AS c JOIN sandboxes_sandbox AS s ON s.id = c.original",
                [n, n],
            )
            cursor.execute(
                "INSERT INTO analytics_event (name, user_id, sandbox_id, partner_id, properties, occurred_at,"
                " received_at, source, idempotency_key)"
                " SELECT e.name, coalesce(u.id, e.user_id), c.id, e.partner_id, e.properties,"
                " e.occurred_at - %s::interval, e.received_at - %s::interval, e.source, e.idempotency_key"
                " FROM analytics_event AS e JOIN copied AS c ON c.original = e.sandbox_id"
                " LEFT JOIN copied_users AS u ON u.original = e.user_id",
                [shift] * 2,
            )
            cursor.execute("DROP TABLE copied")
            cursor.execute("DROP TABLE copied_users")
        cursor.execute("ANALYZE analytics_event")
        cursor.execute("ANALYZE analytics_lead")
        cursor.execute("ANALYZE demoportal_user")


# 2. The web process


@contextmanager
def web_process(port: int) -> Iterator[subprocess.Popen[bytes]]:
    command = [
        *(str(Path(sys.executable).parent / "uvicorn"), "demoportal.asgi:application", "--host", "127.0.0.1"),
        *("--port", str(port), "--ws", "websockets-sansio", "--no-access-log", "--no-proxy-headers"),
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, "DATABASE_POOL": "true"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the web process did not become healthy (exit {process.returncode})")
            time.sleep(0.3)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers(port: int) -> bool:
    """Whether the web process answers ``/healthz`` (503 included: no worker or simulator runs here)."""
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code in (200, 503)
    except requests.RequestException:
        return False


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# 3. The API, 4. the admin's pages and the export


def superuser() -> tuple[Any, str, str]:
    """A superuser (who reads the dashboards, as Marketing does), its API token and a session cookie."""
    from django.conf import settings
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from demoportal.core.models import User

    user, _ = User.objects.get_or_create(
        email="bench-dashboards@vendor.example", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    client = Client()
    client.force_login(user)
    return user, token.key, client.cookies[settings.SESSION_COOKIE_NAME].value


def ranges() -> list[tuple[str, dict[str, str]]]:
    from django.utils import timezone

    from analytics.services.rollups import day_of

    today = day_of(timezone.now())
    ninety = {"from": (today - timedelta(days=89)).isoformat(), "to": today.isoformat()}
    product = {"product": "boileroptimizer"}
    return [
        ("30 days (default)", {}),
        ("30 days, one product", product),
        ("90 days", ninety),
        ("90 days, one product", {**ninety, **product}),
    ]


def timed_gets(session: requests.Session, url: str, params: dict[str, str], n: int) -> list[float]:
    first = session.get(url, params=params, timeout=120)  # warms the process's caches; not counted
    assert first.status_code == 200, (url, first.status_code, first.text[:300])
    took = []
    for _ in range(n):
        started = time.perf_counter()
        response = session.get(url, params=params, timeout=120)
        took.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    return took


def api_latencies(base: str, n: int) -> list[tuple[str, str]]:
    _, key, _ = superuser()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {key}"
    rows = []
    for endpoint in ("demo-performance", "lead-quality", "product-engagement"):
        for label, params in ranges():
            took = timed_gets(session, f"{base}/api/v1/dashboards/{endpoint}", params, n)
            rows.append((f"`GET /api/v1/dashboards/{endpoint}`, {label}", ms(took)))
    return rows


def admin_pages(base: str, web: subprocess.Popen[bytes], n: int) -> list[tuple[str, str]]:
    from django.conf import settings

    from analytics.models import DemoSummary

    _, _, cookie = superuser()
    session = requests.Session()
    session.cookies[settings.SESSION_COOKIE_NAME] = cookie
    rows = []
    for page in ADMIN_PAGES:
        url = f"{base}/admin/dashboards/{page}/"
        if session.get(url, timeout=120).status_code == 404:
            rows.append((f"admin `/admin/dashboards/{page}/`", "pending: not in this build"))
            continue
        for label, params in ranges():
            rows.append((f"admin `/admin/dashboards/{page}/`, {label}", ms(timed_gets(session, url, params, n))))
    ninety = dict(ranges()[2][1])
    demos = DemoSummary.objects.filter(day__gte=ninety["from"]).count()
    for name in EXPORTS:
        url = f"{base}/admin/dashboards/demo-performance/export/{name}"
        rows.append((f"export `{name}`, 90 days ({demos:,} demos)", export_measured(session, url, ninety, web.pid)))
    return rows


def export_measured(session: requests.Session, url: str, params: dict[str, str], pid: int) -> str:
    """Time to first byte, total time, size, and the web process's RSS before and at its peak meanwhile."""
    before = peak = rss_mb(pid)
    done = threading.Event()

    def watch() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, rss_mb(pid))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    started = time.perf_counter()
    try:
        with session.get(url, params=params, stream=True, timeout=600) as response:
            if response.status_code == 404:
                return "pending: not in this build"
            assert response.status_code == 200, (url, response.status_code)
            chunks = response.iter_content(chunk_size=65536)
            size = len(next(chunks, b""))
            first_byte = time.perf_counter() - started
            size += sum(len(chunk) for chunk in chunks)
        total = time.perf_counter() - started
    finally:
        done.set()
        watcher.join()
    return (
        f"first byte {first_byte * 1000:.0f} ms, all {total:.1f} s, {size / 2**20:.1f} MB;"
        f" web RSS {before:.0f} MB before, {peak:.0f} MB at most while streaming"
    )


if __name__ == "__main__":
    main()
