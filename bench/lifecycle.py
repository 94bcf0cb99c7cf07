"""How fast a sandbox is made, reset, extended and destroyed, and what one costs in PostgreSQL.

    .venv/bin/python bench/lifecycle.py [--runs 50]

Through the whole Django stack (token auth, DRF, services, PostgreSQL) with Django's test client
against the development database, no network hop. Every sandbox it makes is destroyed and its row
deleted at the end. Prints a table; copy it into docs/benchmarks.md.
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

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demoportal.settings.local")


def main() -> None:
    from bench.table import print_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from rest_framework.authtoken.models import Token

    from demoportal.models import User
    from sandboxes.models import Sandbox
    from sandboxes.usage import storage_bytes

    call_command("bootstrap", "--migrate", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
    staff, _ = User.objects.get_or_create(email="bench-lifecycle@example.com", defaults={"is_staff": True})
    token, _ = Token.objects.get_or_create(user=staff)
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Token {token.key}")
    industries = ["oil_gas", "chemicals", "steel", "food_beverage", "cement"]
    timings: dict[str, list[float]] = {"create": [], "reset": [], "extend": [], "destroy": []}
    ids: list[int] = []

    def timed(name: str, call: Callable[[], Any], expected: int) -> Any:
        started = time.perf_counter()
        response = call()
        timings[name].append((time.perf_counter() - started) * 1000)
        assert response.status_code == expected, response.content
        return response

    try:
        for run in range(args.runs):
            body = {"email": f"bench-{run}@plant.example", "product": "thermalcommand", "industry": industries[run % 5]}
            create = partial(client.post, "/api/v1/sandboxes", body, content_type="application/json")
            ids.append(timed("create", create, 201).json()["sandbox_id"])
        sizes = [storage_bytes(sandbox=sandbox) for sandbox in Sandbox.objects.filter(pk__in=ids)]
        extend = {"hours": 24, "reason": "benchmark"}
        for sandbox_id in ids:
            url = f"/api/v1/sandboxes/{sandbox_id}"
            timed("reset", partial(client.post, f"{url}/reset"), 200)
            timed("extend", partial(client.post, f"{url}/extend", extend, content_type="application/json"), 200)
            timed("destroy", partial(client.delete, url), 204)
    finally:
        for sandbox in Sandbox.objects.filter(pk__in=ids):
            sandbox.delete(force_drop=True)
        User.objects.filter(email__startswith="bench-").delete()
        token.delete()
        staff.delete()

    rows = [
        (
            f"{name} through the API ({len(values)} runs, all five scenarios)",
            f"p50 {np.percentile(values, 50):.0f} ms, p95 {np.percentile(values, 95):.0f} ms",
        )
        for name, values in timings.items()
        if values
    ]
    rows.append(
        (
            "PostgreSQL bytes per sandbox schema (tables and indexes)",
            f"{np.median(sizes) / 1024:.0f} KiB median, {max(sizes) / 1024:.0f} KiB max",
        )
    )
    print_table(rows, f"{os.cpu_count()} cores, PostgreSQL on loopback")


if __name__ == "__main__":
    main()
