"""Lead scoring against the running system: an event through the API to its lead's ledger; a rescore of every
lead of a large sample while the portal is probed; the lead list and the admin's lead page at that size.

    REDIS_URL=redis://127.0.0.1:6414 .venv/bin/python bench/scoring.py [--leads 100000] [--events 300]
        [--database demoportal_scoring] [--port 18790]

Starts the whole system as `make run` does (`demoportal.devstack run`: uvicorn, Celery workers, beat, simulator)
on a database of its own, made fresh and dropped at the end, and Redis databases 13-15 of REDIS_URL (flushed at
the end). This process reads and writes the same database (Django, local settings). In order:

1. ``--leads`` sample prospects (``analytics.services.sample``), written and scored in this process;
2. ``--events`` events posted to ``POST /api/v1/events`` with sandbox tokens, by ten consenting prospects with a
   sandbox each (made through the API), one after another; after each, the lead is checked to have been scored
   by that request (its ``updated_at``); then the scoring alone (``lead_refresh``) timed in this process;
3. a preview, then an application, of a new rule set version (``rescore_start``: the worker runs it), while a
   client asks ``GET /healthz`` and the portal's home page in turn, and the same client alone beforehand;
4. ``GET /api/v1/leads`` and ``/admin/analytics/lead/<id>/change/`` at that size, if this build has them.

The purge of ended sandboxes is held off (SANDBOX_RETENTION_DAYS=3650), so beat leaves the sample alone. Prints a
table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
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
from bench.table import print_table  # noqa: E402

REDIS_DBS = (13, 14, 15)
PROSPECTS = 10
EVENT_MIX: tuple[tuple[str, dict[str, Any]], ...] = (  # what a prospect's page and actions send, in turn
    ("page_view", {"path": "/"}),
    ("dashboard_accessed", {"path": "/"}),
    ("feature_viewed", {"feature": "kpis"}),
    ("feature_viewed", {"feature": "asset_trend"}),
    ("feature_clicked", {"feature": "history_zoom"}),
    ("savings_calculated", {"asset_tag": "B-101", "annual_savings_usd": 240000}),
    ("optimization_applied", {"kind": "o2_trim", "o2_pct": 2.8}),
    ("report_generated", {"kind": "findings_pdf"}),
    ("alert_acknowledged", {"alarm_key": "B-101:o2_high:4410"}),
    ("recommendation_viewed", {"feature": "tour.savings"}),
)


def percentiles(values: list[float]) -> str:
    return f"p50 {np.percentile(values, 50):.0f} ms, p95 {np.percentile(values, 95):.0f} ms, max {max(values):.0f} ms"


def environment(database: str) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
        "REDIS_BROKER_DB": str(REDIS_DBS[0]),
        "REDIS_CACHE_DB": str(REDIS_DBS[1]),
        "REDIS_CHANNELS_DB": str(REDIS_DBS[2]),
        "SANDBOX_POOL_SIZE": "0",
        "SANDBOX_RETENTION_DAYS": "3650",
        "EVENTS_RATE": "100000/min",
        "SANDBOX_REQUESTS_PER_MINUTE": "1000000",
        "DJANGO_SETTINGS_MODULE": "demoportal.settings.local",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=300)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--database", default="demoportal_scoring")
    parser.add_argument("--port", type=int, default=18790)
    parser.add_argument("--log", type=Path, default=None, help="the system's output (default: discarded)")
    args = parser.parse_args()
    env = environment(args.database)
    os.environ.update(env)  # this process uses the same database and Redis databases
    rows: list[tuple[str, str]] = []
    try:
        with running_system(database=args.database, redis_dbs=REDIS_DBS, port=args.port, env=env, log=args.log):
            rows = measure(args, f"http://127.0.0.1:{args.port}")
    finally:
        import redis

        for db in REDIS_DBS:
            redis.Redis.from_url(f"{env['REDIS_URL']}/{db}").flushdb()
    load = os.getloadavg()
    print_table(
        rows,
        f"{os.cpu_count()} cores, the system as `make run` starts it, PostgreSQL and Redis on loopback;"
        f" load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)",
    )


def measure(args: argparse.Namespace, base: str) -> list[tuple[str, str]]:
    import django

    django.setup()
    from analytics.models import Event, ScoreEntry
    from analytics.services.sample import sample_activity_create

    rows: list[tuple[str, str]] = []
    sample = sample_activity_create(leads=args.leads, seed=args.seed)
    rows.append(
        (
            f"sample_activity: {sample.people:,} leads, {Event.objects.count():,} events written",
            f"{sample.write_seconds:.0f} s (users, sandboxes and events by COPY)",
        )
    )
    rows.append(
        (
            f"… scored by the rescore's batches ({ScoreEntry.objects.count():,} ledger rows)",
            f"{sample.score_seconds:.0f} s",
        )
    )
    rows += event_to_ledger(args, base)
    rows += rescore_while_probed(base)
    rows += lead_pages(base)
    return rows


def staff() -> tuple[Any, str]:
    from rest_framework.authtoken.models import Token

    from demoportal.core.models import User

    user, _ = User.objects.get_or_create(
        email="bench-scoring@vendor.example", defaults={"is_staff": True, "is_superuser": True}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def event_to_ledger(args: argparse.Namespace, base: str) -> list[tuple[str, str]]:
    """Events posted as prospects do, each checked to have scored its lead within its own request."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from analytics.models import Lead, ScoreEntry
    from analytics.services.leads import lead_refresh
    from demoportal.core.models import User

    _, key = staff()
    api = requests.Session()
    api.headers["Authorization"] = f"Token {key}"
    prospects = []
    for n in range(PROSPECTS):
        body = {"email": f"bench-{n}@furnace-works.example", "product": "boileroptimizer", "industry": "steel"}
        response = api.post(f"{base}/api/v1/sandboxes", json=body)
        assert response.status_code == 201, response.text[:300]
        made = response.json()
        User.objects.filter(email=body["email"]).update(
            contact_consent_at=timezone.now(), role="engineer", company="Furnace Works", country="US"
        )
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {made['access_token']}"
        prospects.append((User.objects.get(email=body["email"]), session))
    posted: list[float] = []
    unscored = 0
    for n in range(args.events):
        user, session = prospects[n % PROSPECTS]
        name, properties = EVENT_MIX[(n // PROSPECTS) % len(EVENT_MIX)]
        sent = timezone.now()
        started = time.perf_counter()
        response = session.post(f"{base}/api/v1/events", json={"event": name, "properties": properties})
        posted.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 202, response.text[:300]
        lead = Lead.objects.filter(user=user).first()
        unscored += lead is None or lead.updated_at < sent
    entries = ScoreEntry.objects.filter(lead__user__in=[user for user, _ in prospects]).count()
    scoring: list[float] = []
    queries: list[int] = []
    for _ in range(3):
        for user, _ in prospects:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                lead_refresh(user=user)
                scoring.append((time.perf_counter() - started) * 1000)
            queries.append(len(captured))
    per_lead = args.events // PROSPECTS
    return [
        (
            f"`POST /api/v1/events` → its lead's ledger updated, {args.events} events of {PROSPECTS} prospects",
            f"{percentiles(posted)}; {unscored} not scored in their request; {entries} ledger rows",
        ),
        (
            f"… the scoring in that request alone (`lead_refresh`, a lead of {per_lead} events), in process",
            f"{percentiles(scoring)}; {int(np.median(queries))} queries",
        ),
    ]


class Prober:
    """One client asking ``GET /healthz`` and the portal's home in turn, as fast as they answer."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.latencies: dict[str, list[float]] = {"/healthz": [], "/": []}
        self.errors = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        session = requests.Session()
        deadline = time.monotonic() + 900  # bounded, whatever happens to the job
        while not self.stop.is_set() and time.monotonic() < deadline:
            for path, values in self.latencies.items():
                started = time.perf_counter()
                try:
                    ok = session.get(f"{self.base}{path}", timeout=30).status_code == 200
                except requests.RequestException:
                    ok = False
                values.append((time.perf_counter() - started) * 1000)
                self.errors += not ok
            time.sleep(0.05)

    def __enter__(self) -> Prober:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        self.thread.join()

    def summary(self) -> str:
        parts = [f"`{path}` {percentiles(values)}" for path, values in self.latencies.items()]
        return "; ".join(parts) + f"; {sum(map(len, self.latencies.values()))} requests, {self.errors} errors"


def rescore_while_probed(base: str) -> list[tuple[str, str]]:
    from analytics.models import Lead, RescoreJob, Rule
    from analytics.services.leads import rule_set_active
    from analytics.services.rules import rescore_start, rule_set_new_version

    user, _ = staff()
    with Prober(base) as idle:
        time.sleep(15)
    rows = [("portal while idle: one client, `/healthz` and `/` in turn, 15 s", idle.summary())]
    version = rule_set_new_version(source=rule_set_active(), actor=user)
    Rule.objects.filter(rule_set=version, signal="demo_started").update(points=7)
    leads = Lead.objects.count()
    for mode in (RescoreJob.Mode.PREVIEW, RescoreJob.Mode.APPLY):
        with Prober(base) as probe:
            started = time.monotonic()
            job = rescore_start(rule_set=version, mode=mode, actor=user)
            deadline = started + 900
            while job.status not in (RescoreJob.Status.DONE, RescoreJob.Status.FAILED) and time.monotonic() < deadline:
                time.sleep(0.2)
                job.refresh_from_db()
            waited = time.monotonic() - started
        assert job.status == RescoreJob.Status.DONE, (job.status, job.error)
        assert job.finished_at is not None
        ran = (job.finished_at - job.created_at).total_seconds()
        rows += [
            (
                f"rescore {mode} of {job.leads_total:,} scored users ({leads:,} leads), in the worker",
                f"{ran:.1f} s from queued to done ({waited:.1f} s as seen by a client polling)",
            ),
            ("… the portal meanwhile, the same client", probe.summary()),
        ]
    return rows


def lead_pages(base: str) -> list[tuple[str, str]]:
    """The lead list API and the admin's lead page, where this build has them."""
    from django.conf import settings
    from django.test import Client

    from analytics.models import Lead

    user, key = staff()
    client = Client()
    client.force_login(user)
    cookie = {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}
    leads = list(Lead.objects.order_by("?").values_list("pk", flat=True)[:50])
    rows = []
    for label, urls, headers, cookies in (
        ("`GET /api/v1/leads` (staff token)", [f"{base}/api/v1/leads"] * 50, {"Authorization": f"Token {key}"}, {}),
        (
            "admin lead page `/admin/analytics/lead/<id>/change/` (staff session), 50 random leads",
            [f"{base}/admin/analytics/lead/{pk}/change/" for pk in leads],
            {},
            cookie,
        ),
    ):
        session = requests.Session()
        session.headers.update(headers)
        session.cookies.update(cookies)
        first = session.get(urls[0])
        if first.status_code == 404:
            rows.append((f"{label} with {Lead.objects.count():,} leads", "not measured: this build has no such page"))
            continue
        assert first.status_code == 200, (first.status_code, first.text[:300])
        latencies = []
        for url in urls:
            started = time.perf_counter()
            response = session.get(url)
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        rows.append((f"{label} with {Lead.objects.count():,} leads", percentiles(latencies)))
    return rows


if __name__ == "__main__":
    main()
