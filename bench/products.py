"""The products' screens on a sandbox's host: server time of every product's landing and feature screen on a
plant of each industry, and the computations behind the screens of their own, timed alone.

    .venv/bin/python -m demoportal.devstack exec -- .venv/bin/python -m bench.products [--requests 20]
        [--database demoportal_products]

On a database of its own (made fresh): the five scenarios' templates, then one sandbox per industry made for a
prospect. Each page is asked ``--requests`` times (after one not counted) through Django's test client in this
process: server time from the request to the rendered response, with the database and Redis for real, no
network and no other load. Then each screen's computation alone (``carbon_screen``, ``tube_screen``,
``trap_screen``, ``nox_screen``, ``load_screen``, ``pinch_screen``) on the plant where it has most to do.

Prints a table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.dashboards import database_ensure, environment  # noqa: E402  (after the path is set)
from bench.table import print_table  # noqa: E402


def ms(values: list[float]) -> str:
    a = np.array(values) * 1000
    return f"p50 {np.percentile(a, 50):.0f} ms, p95 {np.percentile(a, 95):.0f} ms, max {a.max():.0f} ms"


def timed(call: Callable[[], Any], requests: int) -> list[float]:
    call()  # not counted: caches and the plant's layout built once per process
    durations = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        durations.append(time.perf_counter() - started)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--database", default="demoportal_products")
    args = parser.parse_args()
    os.environ.update(environment(args.database))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django_tenants.utils import schema_context

    from demoportal.core import catalogue
    from demoportal.core.models import User
    from sandboxes.services import portal_tenant_ensure, sandbox_create
    from simulation.engine.scenario import feature_absence
    from simulation.models import Plant
    from simulation.selectors import products
    from simulation.services import template_ensure

    connection.close()
    database_ensure(args.database, fresh=True)
    call_command("migrate_schemas", shared=True, verbosity=0)
    portal_tenant_ensure()
    rows: list[tuple[str, str]] = []
    sandboxes = {}
    for industry in sorted(catalogue.scenarios()):
        template_ensure(industry=industry)
        owner = User.objects.create_user(email=f"bench@{industry.replace('_', '-')}.example", password=None)
        sandboxes[industry] = sandbox_create(
            slug=f"bench-{industry.replace('_', '-')}", name=industry, scenario=industry, owner=owner
        )
    for industry, sandbox in sandboxes.items():
        client = Client()
        client.force_login(sandbox.owner)
        host = f"{sandbox.slug}.localhost"
        scenario = catalogue.scenarios()[industry]

        def page(path: str, client: Client = client, host: str = host) -> None:
            response = client.get(path, HTTP_HOST=host)
            assert response.status_code == 200, (path, response.status_code)

        for product in catalogue.products():
            landing = f"/products/{product['key']}/"
            rows.append((f"{industry}: {product['name']} landing", ms(timed(partial(page, landing), args.requests))))
            for feature in product["features"]:
                if feature_absence(feature, scenario.asset_types) is not None:
                    continue
                path = f"{landing}{feature['key'].replace('_', '-')}/"
                name = f"{industry}: {product['name']} · {feature['name']}"
                rows.append((name, ms(timed(partial(page, path), args.requests))))
        connection.set_schema_to_public()  # type: ignore[attr-defined]

    # The computations alone, each where it has most to do.
    computations: list[tuple[str, str, Callable[[Plant], Any]]] = [
        ("oil_gas", "`carbon_screen` (17 fuel meters, 8,760 hours)", lambda plant: products.carbon_screen(plant, 70.0)),
        ("oil_gas", "`tube_screen` (24 passes, 7 days hourly)", products.tube_screen),
        ("oil_gas", "`trap_screen` (150 traps, a day hourly)", lambda plant: products.trap_screen(plant)),
        ("oil_gas", "`nox_screen` (17 units, a week of minutes)", products.nox_screen),
        ("oil_gas", "`load_screen` (5 boilers, 30 days hourly, the split)", products.load_screen),
        (
            "chemicals",
            "`pinch_screen` (4 streams, curves and charts)",
            lambda plant: products.pinch_screen(catalogue.scenarios()[plant.scenario], 10.0),
        ),
    ]
    for industry, name, compute in computations:
        sandbox = sandboxes[industry]
        with schema_context(sandbox.schema_name):
            plant = Plant.objects.get()
            durations = timed(partial(compute, plant), args.requests)
        rows.append((f"{industry}: {name}", ms(durations)))
    load = os.getloadavg()
    print_table(
        rows,
        f"{os.cpu_count()} cores; Django's test client in one process (server time: no network, no other load, no"
        f" live sandboxes ticking); {args.requests} requests each after one not counted;"
        f" load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}",
    )


if __name__ == "__main__":
    main()
