"""The prospect's wait in a real browser: from "Start my sandbox" to the sandbox home with its chart drawn.

Starts the whole system (as `make run` does) on a database of its own, signs one prospect up through the
browser (Debian's Chromium via Playwright, verification link from the development mailbox), then runs the
demo selection N times, ending each sandbox before the next, across the five industries. Prints p50/p95
of the submit → chart-drawn time and of its first part, submit → sandbox host's page loaded.

    .venv/bin/python bench/journey.py [--runs 20] [--pool-size 2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import running_system  # noqa: E402  (after the path is set)
from bench.table import print_table  # noqa: E402
from tests.e2e import journey  # noqa: E402

DATABASE = "demoportal_journey"
PORT = 18720
INDUSTRIES = ["oil_gas", "chemicals", "steel", "food_beverage", "cement"]


def percentiles(seconds: list[float]) -> str:
    ms = np.array(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.0f} ms, p95 {np.percentile(ms, 95):.0f} ms, max {ms.max():.0f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pool-size", type=int, default=2, help="SANDBOX_POOL_SIZE (0: every sandbox cloned cold)")
    args = parser.parse_args()
    portal = f"http://localhost:{PORT}/"
    mail = tempfile.mkdtemp(prefix="journey-mail-")
    env = {"DEMO_SANDBOX": "false", "SANDBOX_POOL_SIZE": str(args.pool_size), "EMAIL_FILE_PATH": mail}
    total: list[float] = []
    loaded: list[float] = []
    with running_system(database=DATABASE, redis_dbs=(3, 4, 5), port=PORT, env=env), journey.chromium() as browser:
        page = journey.new_page(browser)
        email = f"bench-{int(time.time())}@journey.example"
        journey.sign_up(page, portal, email)
        journey.verify_from_mailbox(page, portal, email)
        time.sleep(5)  # let the warm-up worker fill the pools it was told to after start
        for run in range(args.runs):
            industry = INDUSTRIES[run % len(INDUSTRIES)]
            timing = journey.choose_demo(page, portal, product="thermalcommand", industry=industry, role="engineer")
            total.append(timing)
            loaded.append(page.evaluate("performance.timing.loadEventEnd - performance.timing.navigationStart") / 1000)
            journey.tour_skip(page)
            journey.end_sandbox(page)
            time.sleep(1)  # a prospect reads; the pool refills meanwhile
    rows = [
        (f"submit → sandbox home with chart drawn ({args.runs} runs)", percentiles(total)),
        ("… of which the home page's own load (navigation timing)", percentiles(loaded)),
    ]
    print_table(rows, f"{os.cpu_count()} cores, SANDBOX_POOL_SIZE={args.pool_size}, Chromium headless on loopback")


if __name__ == "__main__":
    main()
