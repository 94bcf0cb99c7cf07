"""How fast the plant-data engine is: a sensor-year, a whole scenario, a live tick, the series API.

    .venv/bin/python bench/engine.py

Engine figures are pure numpy. The series endpoint is measured through the whole Django stack
(middleware, token auth, tenant routing, DRF, JSON) with Django's test client against the demo
sandbox of the development database (`manage.py bootstrap --migrate` is run first, as `make run`
does); no network hop. Prints a table; copy it into docs/benchmarks.md.
"""

from __future__ import annotations

import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")

BASE = 29_400_000
YEAR = 525_600


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def engine_rows() -> list[tuple[str, str]]:
    from simulation.engine.live import LiveBatch, LiveMember
    from simulation.engine.plant import plant_build
    from simulation.engine.scenario import load_catalogue
    from simulation.engine.signals import sensor_values, sensor_values_parallel

    scenarios, _ = load_catalogue(Path(__file__).resolve().parent.parent / "fixtures")
    refinery = plant_build(scenarios["oil_gas"], 1)
    minutes = np.arange(BASE - YEAR, BASE, dtype=np.int64)
    rows = []
    for key, label in [("H-101.o2", "measured (O2)"), ("H-101.efficiency", "derived (efficiency from 3 sensors)")]:
        index = [refinery.sensor_by_key(key).index]
        sensor_values(refinery, index, minutes[:10], base_minute=BASE)
        one_core = timed(partial(sensor_values, refinery, index, minutes, base_minute=BASE), 9)
        all_cores = timed(partial(sensor_values_parallel, refinery, index, minutes, base_minute=BASE), 9)
        rows.append(
            (
                f"one sensor-year at 1 min (525,600 values), {label}",
                f"{statistics.median(one_core):.0f} ms on one core, {statistics.median(all_cores):.0f} ms on all",
            )
        )

    started = time.perf_counter()
    for first in range(0, len(refinery.sensors), 16):
        chunk = range(first, min(first + 16, len(refinery.sensors)))
        sensor_values(refinery, chunk, minutes, base_minute=BASE)
    whole = time.perf_counter() - started
    rows.append((f"whole refinery scenario: {len(refinery.sensors)} sensors × 12 months × 1 min", f"{whole:.1f} s"))

    keys = sorted(scenarios)
    members = [LiveMember(plant_build(scenarios[keys[i % 5]], i), BASE - (i * 37) % 1440) for i in range(1000)]
    started = time.perf_counter()
    batch = LiveBatch(members)
    build = time.perf_counter() - started
    first_tick = timed(lambda: batch.tick(BASE + 1), 1)[0]
    ticks = [timed(partial(batch.tick, BASE + k), 1)[0] for k in range(2, 242)]  # 4 hours of ticks
    sensors = sum(len(m.plant.sensors) for m in members)
    rows.append(
        (
            f"live tick, 1,000 sandboxes (all 5 scenarios, {sensors:,} sensors), steady",
            f"p50 {percentile(ticks, 50):.0f} ms, p95 {percentile(ticks, 95):.0f} ms",
        )
    )
    rows.append(("live tick, the very first (every sandbox fills its episode cache)", f"{first_tick:.0f} ms"))
    rows.append(("live tick, slowest of 4 hours (caches refreshing, staggered)", f"{max(ticks):.0f} ms"))
    rows.append(("building the 1,000-sandbox batch (once)", f"{build:.1f} s"))
    return rows


def series_rows() -> list[tuple[str, str]]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from django_tenants.utils import schema_context
    from rest_framework.authtoken.models import Token

    from demoportal.core.models import User
    from sandboxes.models import Sandbox
    from simulation.models import Sensor

    call_command("bootstrap", "--migrate", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    sandbox = Sandbox.objects.get(slug="demo")
    user, _ = User.objects.get_or_create(email="bench@example.com", defaults={"is_staff": True})
    token, _ = Token.objects.get_or_create(user=user)
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    end = timezone.now()
    params = {"start": (end - timedelta(days=364)).isoformat(), "end": end.isoformat(), "max_points": "1000"}
    rows = []
    for key, label in [("H-101.o2", "measured"), ("H-101.efficiency", "derived")]:
        with schema_context(sandbox.schema_name):
            sensor = Sensor.objects.get(key=key)
        url = f"/api/v1/sandboxes/{sandbox.pk}/sensors/{sensor.pk}/series"
        assert client.get(url, params).status_code == 200
        times = timed(partial(client.get, url, params), 30)
        rows.append(
            (
                f"GET …/series, 12 months at 1,000 points, {label} sensor (30 requests)",
                f"p50 {percentile(times, 50):.0f} ms, p95 {percentile(times, 95):.0f} ms",
            )
        )
    kpi_url = f"/api/v1/sandboxes/{sandbox.pk}/kpis"
    from django.core.cache import cache

    cache.clear()
    cold = timed(lambda: client.get(kpi_url), 1)[0]
    warm = timed(lambda: client.get(kpi_url), 10)
    rows.append(("GET …/kpis, computed from 12 months (first request of the hour)", f"{cold:.0f} ms"))
    rows.append(("GET …/kpis, cached", f"p50 {percentile(warm, 50):.0f} ms"))
    token.delete()
    user.delete()
    return rows


def main() -> None:
    from bench.table import print_table

    rows = engine_rows() + series_rows()
    rows.append(("peak memory of this process", f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB"))
    print_table(rows, f"{os.cpu_count()} cores, Python {sys.version.split()[0]}, numpy {np.__version__}")


if __name__ == "__main__":
    main()
