"""How long a newcomer waits: `make run` cold and warm, the private servers, and `make test`.

    python bench/startup.py [--skip-test]

Works in a fresh clone of this repository's HEAD under a temporary directory, with its own database
(demoportal_bench) and Redis databases 13-15, so nothing of a running `make run` is touched. "Cold" uses
an empty uv cache, so every package is downloaded as on a new laptop. Prints a table; copy it into
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.system import healthy  # noqa: E402  (after the path is set)

DATABASE = "demoportal_bench"
ADMIN = "postgres://postgres@127.0.0.1:5432/postgres"


def psql(sql: str) -> None:
    subprocess.run(["psql", ADMIN, "-qc", sql], check=True, capture_output=True)


def make_run(clone: Path, env: dict[str, str], port: int) -> tuple[float, float]:
    """Seconds from `make run` to /healthz 200, and from Ctrl-C to every process gone."""
    started = time.monotonic()
    process = subprocess.Popen(
        ["make", "run"],
        cwd=clone,
        env={**env, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = started + 600
        while not healthy(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"make run did not become healthy (exit {process.returncode})")
            time.sleep(0.2)
        up = time.monotonic() - started
        stop_started = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=60)
        while True:
            try:
                os.killpg(process.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        return up, time.monotonic() - stop_started
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def private_servers(clone: Path) -> tuple[float, float]:
    """Seconds to start private PostgreSQL + Redis under an empty .data/ (initdb included), then again."""
    code = (
        "import sys, time, socket\n"
        "from demoportal import devstack\n"
        "def free():\n"
        "    s = socket.socket(); s.bind(('127.0.0.1', 0)); p = s.getsockname()[1]; s.close(); return p\n"
        "devstack.SYSTEM_POSTGRES = ('127.0.0.1', free()); devstack.SYSTEM_REDIS = ('127.0.0.1', free())\n"
        "devstack.PRIVATE_POSTGRES_PORT = free(); devstack.PRIVATE_REDIS_PORT = free()\n"
        "for run in ('cold', 'warm'):\n"
        "    t = time.monotonic()\n"
        "    with devstack.stack_up():\n"
        "        print('elapsed', time.monotonic() - t)\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    result = subprocess.run(
        [clone / ".venv/bin/python", "-c", code], cwd=clone, env=env, capture_output=True, text=True, check=True
    )
    cold, warm = (float(line.split()[1]) for line in result.stdout.splitlines() if line.startswith("elapsed "))
    return cold, warm


def main() -> None:
    from bench.table import print_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-test", action="store_true", help="do not time `make test`")
    args = parser.parse_args()

    rows: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="demoportal-bench-") as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
        psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        env = {
            **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{DATABASE}",
            "REDIS_URL": "redis://127.0.0.1:6379",
            "REDIS_BROKER_DB": "13",
            "REDIS_CACHE_DB": "14",
            "REDIS_CHANNELS_DB": "15",
            "UV_CACHE_DIR": str(Path(tmp) / "uv-cache"),  # empty: every package is downloaded
        }
        try:
            up, down = make_run(clone, env, 18700)
            rows += [("make run, fresh clone, empty package cache → /healthz ok", f"{up:.1f} s")]
            rows += [("Ctrl-C → every process stopped", f"{down:.1f} s")]
            up, down = make_run(clone, env, 18701)
            rows += [("make run again (warm: nothing to install or migrate) → /healthz ok", f"{up:.1f} s")]
            cold, warm = private_servers(clone)
            rows += [("private PostgreSQL 18 + Redis 6.2, empty .data/ (initdb) → both answer", f"{cold:.1f} s")]
            rows += [("private PostgreSQL 18 + Redis 6.2, existing .data/ → both answer", f"{warm:.1f} s")]
            if not args.skip_test:
                started = time.monotonic()
                test_env = {k: v for k, v in env.items() if k not in ("DATABASE_URL", "REDIS_URL")}
                result = subprocess.run(["make", "test"], cwd=clone, env=test_env, capture_output=True, text=True)
                if result.returncode != 0:
                    raise SystemExit(f"make test failed:\n{result.stdout[-4000:]}\n{result.stderr[-2000:]}")
                rows += [("make test (ruff, mypy, pytest), installed", f"{time.monotonic() - started:.1f} s")]
        finally:
            psql(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")

    print_table(rows, f"{os.cpu_count()} cores, Python {sys.version.split()[0]}")


if __name__ == "__main__":
    main()
