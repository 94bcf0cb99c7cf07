"""CRM sync: trigger → record in the (fake) CRMs at a steady trickle, then a burst of 5,000 triggers, with the
portal probed meanwhile.

    .venv/bin/python bench/crm.py [--trickle 60] [--burst 5000] [--database demoportal_crm] [--port 18791]

Starts the whole system as `make run` does (`demoportal.devstack run`) on a database of its own, made fresh and
dropped at the end, Redis databases 13-15 of REDIS_URL; the system itself has no CRM configured, so its own
worker leaves CRM rows alone. The deliveries are made by **one Celery worker in this process**
(celery.contrib.testing's ``start_worker``, solo pool: the real consumer of the ``crm`` queue, on Redis database
12 as its broker), because the fake Salesforce org (tests/crm/fake_salesforce.py, ``responses``) answers this
process's HTTP only; the fake HubSpot (tests/crm/fake_hubspot.py) is a real HTTP server on 127.0.0.1 with
HubSpot's rate limit (100 requests per 10 s, 429 past it). Both CRMs are configured in this process and
delivered to at once.

1. **trickle**: ``--trickle`` consenting prospects with a demo each request pricing, one a second
   (``event_record``, as the portal's request does); a watcher notes when each one's record appears in each
   fake: trigger → visible, per CRM;
2. **burst**: ``--burst`` sample prospects (``sample_activity``) are each triggered at once (``sync_request``,
   one transaction each, as many requests would), while one client asks the portal's ``/healthz`` and ``/`` in
   turn (and the same client alone beforehand): time until every sync is delivered, API calls per synced lead,
   the HubSpot fake's 429s.

Prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.scoring import Prober, environment  # noqa: E402  (after the path is set)
from bench.system import running_system  # noqa: E402
from bench.table import print_table  # noqa: E402
from tests.crm.fake_hubspot import FakeHubSpot  # noqa: E402
from tests.crm.fake_salesforce import FakeSalesforceOrg  # noqa: E402

REDIS_DBS = (13, 14, 15)
OWN_BROKER_DB = "12"  # this process's worker and triggers: the system's worker never sees them


def seconds(values: list[float]) -> str:
    a = np.array(values)
    return f"p50 {np.percentile(a, 50):.2f} s, p95 {np.percentile(a, 95):.2f} s, max {a.max():.2f} s"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trickle", type=int, default=60)
    parser.add_argument("--burst", type=int, default=5000)
    parser.add_argument("--database", default="demoportal_crm")
    parser.add_argument("--port", type=int, default=18791)
    parser.add_argument("--log", type=Path, default=None, help="the system's output (default: discarded)")
    args = parser.parse_args()
    env = environment(args.database)
    rows: list[tuple[str, str]] = []
    with FakeSalesforceOrg(api_limit=1_000_000) as org, FakeHubSpot() as hubspot:
        try:
            with running_system(database=args.database, redis_dbs=REDIS_DBS, port=args.port, env=env, log=args.log):
                os.environ.update(env)
                os.environ.update(org.settings())
                os.environ.update(hubspot.environment())
                os.environ["REDIS_BROKER_DB"] = OWN_BROKER_DB
                rows = measure(args, org, hubspot, f"http://127.0.0.1:{args.port}")
        finally:
            import redis

            for db in (*REDIS_DBS, int(OWN_BROKER_DB)):
                redis.Redis.from_url(f"{env['REDIS_URL']}/{db}").flushdb()
    load = os.getloadavg()
    print_table(
        rows,
        f"{os.cpu_count()} cores; the system as `make run` starts it, one CRM worker (solo) in the bench process;"
        f" load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1 / 5 / 15 min)",
    )


def measure(args: argparse.Namespace, org: FakeSalesforceOrg, hubspot: FakeHubSpot, base: str) -> list[tuple[str, str]]:
    import django

    django.setup()
    for noisy in ("responses", "werkzeug", "celery", "crm"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    from celery.contrib.testing.worker import start_worker

    from demoportal.celery import app

    with start_worker(app, pool="solo", queues=["crm"], perform_ping_check=False, shutdown_timeout=60):
        return [*trickle(args.trickle, org, hubspot), *burst(args.burst, org, hubspot, base)]


def trickle(count: int, org: FakeSalesforceOrg, hubspot: FakeHubSpot) -> list[tuple[str, str]]:
    from analytics.models import Lead
    from analytics.services.events import event_record
    from tests.crm.syncing import prospects_with_a_demo

    people = prospects_with_a_demo(count)
    sent: dict[str, float] = {}
    seen: dict[str, dict[str, float]] = {"salesforce": {}, "hubspot": {}}
    keys: dict[str, str] = {}
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            for email, at in list(sent.items()):
                key = keys.get(email)
                if key and email not in seen["salesforce"] and org.lead(key) is not None:
                    seen["salesforce"][email] = time.monotonic() - at
                if email not in seen["hubspot"] and hubspot.contact(email) is not None:
                    seen["hubspot"][email] = time.monotonic() - at
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    start = time.monotonic()
    for n, (user, sandbox) in enumerate(people):
        time.sleep(max(0.0, start + n - time.monotonic()))  # one a second
        sent_at = time.monotonic()
        event_record(name="pricing_requested", user=user, sandbox=sandbox)
        keys[user.email] = f"lead-{Lead.objects.get(user=user).pk}"
        sent[user.email] = sent_at
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and min(len(v) for v in seen.values()) < count:
        time.sleep(0.1)
    stop.set()
    watcher.join()
    rows = []
    for crm, name in (("salesforce", "Salesforce"), ("hubspot", "HubSpot")):
        values = list(seen[crm].values())
        missing = count - len(values)
        result = seconds(values) if values else "none arrived"
        rows.append(
            (f"trickle, 1 pricing request a second for {count} s → the lead in {name}", f"{result}; {missing} missing")
        )
    return rows


def burst(count: int, org: FakeSalesforceOrg, hubspot: FakeHubSpot, base: str) -> list[tuple[str, str]]:
    from django.db import transaction
    from django.db.models import Count

    from analytics.models import Lead
    from analytics.services.sample import SAMPLE_DOMAIN, sample_activity_create
    from crm.models import CrmSync
    from crm.sync.outbox import sync_request

    sample_activity_create(leads=count, seed=15)
    leads = list(Lead.objects.filter(user__email__endswith=SAMPLE_DOMAIN))
    sf_before = Counter(call.kind for call in org.calls)
    hs_before = Counter(hubspot.calls)
    with Prober(base) as idle:
        time.sleep(10)
    with Prober(base) as busy:
        started = time.monotonic()
        for lead in leads:
            with transaction.atomic():
                sync_request(lead=lead, triggers=["pricing_requested"])
        triggered = time.monotonic() - started
        waiting = CrmSync.objects.filter(lead__in=leads).exclude(state=CrmSync.State.DELIVERED)
        deadline = time.monotonic() + 900
        while waiting.exists() and time.monotonic() < deadline:
            time.sleep(0.5)
        took = time.monotonic() - started
    states = dict(
        CrmSync.objects.filter(lead__in=leads).values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    sf_kinds = dict(Counter(call.kind for call in org.calls) - sf_before)
    hs_kinds = dict(Counter(hubspot.calls) - hs_before)
    sf_calls, hs_calls = sum(sf_kinds.values()), sum(hs_kinds.values())
    hs_429 = sum(1 for s in hubspot.seen if s.status == 429)
    return [
        (
            f"burst: {len(leads):,} leads triggered at once ({len(leads):,} transactions)",
            f"{triggered:.1f} s to write the rows",
        ),
        (
            f"… every sync delivered to both CRMs ({2 * len(leads):,} rows)",
            f"{took:.1f} s from the first trigger; states {states}",
        ),
        (
            "… Salesforce API calls per synced lead",
            f"{sf_calls / len(leads):.3f} ({sf_calls} calls: {sf_kinds})",
        ),
        (
            "… HubSpot API calls per synced lead",
            f"{hs_calls / len(leads):.3f} ({hs_calls} calls: {hs_kinds}); {hs_429} answered 429 (all runs)",
        ),
        ("portal while idle: one client, `/healthz` and `/` in turn, 10 s", idle.summary()),
        ("… the same client during the burst", busy.summary()),
    ]


if __name__ == "__main__":
    main()
