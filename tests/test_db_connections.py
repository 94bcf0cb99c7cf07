"""Database connections stay bounded per process (docs/operations.md "Database connections").

The web process is started from the Procfile's own `web:` line (so the test covers what `make run` and a
deploy run) against a private PostgreSQL 15 whose ``max_connections`` is far below the burst's clients,
and a pooled connection never carries one schema's ``search_path`` into another's request.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.message import Message
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django_tenants.postgresql_backend.base import DatabaseWrapper

from sandboxes.models import Sandbox
from tests.conftest import BASE_DIR, procfile_command, wait_for
from tests.demoportal.test_health import free_port
from tests.demoportal.test_settings import PRODUCTION_ENV, manage
from tests.private_postgres import private_postgres

MAX_CONNECTIONS = 20
POOL_MAX_SIZE = 4  # the web process's bound in this test
CLIENTS = 48  # concurrent clients: more than twice max_connections
ROUNDS = 3  # each client's rounds over the portal, the sandbox's page and the API
DATABASE = "dp_dbload_burst"
ADMIN_PASSWORD = "burst-test-password"
REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379")


@dataclass
class SmallPostgres:
    url: str  # of the database the system under test uses
    admin_url: str  # the maintenance database, for this test's own look at pg_stat_activity


@pytest.fixture(scope="module")
def small_postgres() -> Iterator[SmallPostgres]:
    """A private PostgreSQL 15 with max_connections=20, holding an empty database for the system under test."""
    with private_postgres(max_connections=MAX_CONNECTIONS) as server:
        with psycopg.connect(server.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {DATABASE}")
        yield SmallPostgres(url=server.url(DATABASE), admin_url=server.url("postgres"))


def system_environment(database_url: str, **overrides: str) -> dict[str, str]:
    """Local settings, as `make run`, on the private database and this test's own Redis databases."""
    return {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"},
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "REDIS_BROKER_DB": "7",
        "REDIS_CACHE_DB": "8",
        "REDIS_CHANNELS_DB": "9",
        "DEMO_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "DEMO_SANDBOX": "false",
        "SANDBOX_POOL_SIZE": "0",
        "SANDBOX_REQUESTS_PER_MINUTE": "1000000",
        "PYTHONUNBUFFERED": "1",
        **overrides,
    }


def http(
    port: int, path: str, *, host: str, headers: dict[str, str] | None = None, data: bytes | None = None
) -> tuple[int, bytes, Message]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=data, headers={"Host": f"{host}:{port}", **(headers or {})}
    )

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: object, **kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=120) as response:
            return response.status, response.read(), response.headers
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers


@dataclass
class Web:
    port: int
    staff_token: str
    log: Path


@pytest.fixture(scope="module")
def web_on_small_postgres(small_postgres: SmallPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    port = free_port()
    env = system_environment(small_postgres.url, PORT=str(port), DATABASE_POOL_MAX_SIZE=str(POOL_MAX_SIZE))
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "bootstrap", "--migrate", "--port", str(port)], cwd=BASE_DIR, env=env, check=True)
    made = subprocess.run(
        [*manage, "drf_create_token", "admin@example.com"], cwd=BASE_DIR, env=env, check=True, capture_output=True
    )
    staff_token = made.stdout.split()[2].decode()  # "Generated token <key> for user admin@example.com"
    log_path = tmp_path_factory.mktemp("burst") / "web.log"
    with log_path.open("wb") as log:
        web = subprocess.Popen(
            ["sh", "-c", procfile_command("web")],
            cwd=BASE_DIR,
            env={**env, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # the shell and uvicorn, stopped together
        )
    try:

        def serving() -> bool:
            assert web.poll() is None, log_path.read_text()
            try:
                return http(port, "/", host="localhost")[0] == 200
            except OSError:
                return False

        wait_for(serving, "the web process", timeout=60)
        yield Web(port=port, staff_token=staff_token, log=log_path)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)


# Clients' connections only: an autovacuum worker also shows up in pg_stat_activity under the database.
CLIENT_CONNECTIONS = "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"


def connections_to(admin_url: str, database: str, stop: threading.Event) -> list[int]:
    """How many connections ``database`` had, sampled until ``stop`` (from the maintenance database)."""
    counts = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        while not stop.wait(0.02):
            row = conn.execute(CLIENT_CONNECTIONS, [database]).fetchone()
            counts.append(int(row[0]) if row else 0)
    return counts


def test_a_burst_of_clients_beyond_max_connections_gets_no_5xx_and_the_web_process_stays_within_its_pool(
    web_on_small_postgres: Web, small_postgres: SmallPostgres
) -> None:
    web = web_on_small_postgres
    staff = {"Authorization": f"Token {web.staff_token}", "Content-Type": "application/json"}
    body = json.dumps({"email": "burst@example.com", "product": "thermalcommand", "industry": "oil_gas"}).encode()
    status, made, _ = http(web.port, "/api/v1/sandboxes", host="localhost", headers=staff, data=body)
    assert status == 201, made[:500]
    created = json.loads(made)
    slug = created["url"].split("//")[1].split(".")[0]
    sandbox_host = f"{slug}.localhost"
    enter_path = "/" + created["access_url"].split("/", 3)[3]
    status, _, headers = http(web.port, enter_path, host=sandbox_host)
    assert status == 302
    session = re.search(r"sessionid=([^;]+)", " ".join(headers.get_all("Set-Cookie") or []))
    assert session is not None, headers.items()
    viewer = {"Cookie": f"sessionid={session.group(1)}"}
    token = {"Authorization": f"Bearer {created['access_token']}"}
    api = f"/api/v1/sandboxes/{created['sandbox_id']}"
    calls = [
        ("/", "localhost", {}),  # the portal
        ("/", sandbox_host, viewer),  # the sandbox's home
        (f"{api}/assets", "localhost", token),
        (f"{api}/kpis", "localhost", token),
        (f"{api}/alarms", "localhost", token),
    ]

    def client(n: int) -> list[int]:
        return [
            http(web.port, path, host=host, headers=headers)[0] for _ in range(ROUNDS) for path, host, headers in calls
        ]

    stop = threading.Event()
    with ThreadPoolExecutor(1) as sampler:
        sampled = sampler.submit(connections_to, small_postgres.admin_url, DATABASE, stop)
        with ThreadPoolExecutor(CLIENTS) as clients:
            statuses = Counter(status for statuses in clients.map(client, range(CLIENTS)) for status in statuses)
        stop.set()
        counts = sampled.result()

    assert statuses == Counter({200: CLIENTS * ROUNDS * len(calls)}), (statuses, web.log.read_text()[-3000:])
    assert max(counts) <= POOL_MAX_SIZE, counts  # the sampler itself is connected to another database


def test_a_pooled_connection_used_for_one_schema_serves_the_next_request_with_that_requests_schema(
    sandbox: Sandbox,
) -> None:
    """A pool of one connection, shared by two threads' connection objects: the sandbox's, then the
    portal's, then the sandbox's again without choosing its schema anew (as a websocket consumer's next
    database call does). Each query runs with its own search_path: django-tenants forgets the path it
    set when Django gives the connection back to the pool, and sets it again on the next borrow."""
    settings_dict = {
        **connection.settings_dict,
        "CONN_MAX_AGE": 0,
        "OPTIONS": {**connection.settings_dict["OPTIONS"], "pool": {"min_size": 1, "max_size": 1}},
    }
    sandbox_side = DatabaseWrapper(settings_dict, alias="search-path-probe")
    portal_side = DatabaseWrapper(settings_dict, alias="search-path-probe")
    sandbox_side.set_schema(sandbox.schema_name)
    portal_side.set_schema_to_public()
    seen = []
    try:
        for user in (sandbox_side, portal_side, sandbox_side):
            with user.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid(), current_setting('search_path')")
                seen.append(cursor.fetchone())
            user.close()  # back to the pool, as at the end of a request
    finally:
        sandbox_side.close_pool()

    assert len({pid for pid, _ in seen}) == 1  # one and the same server connection
    assert [path for _, path in seen] == [f"{sandbox.schema_name}, public", "public", f"{sandbox.schema_name}, public"]


def test_production_settings_pool_the_web_process_and_keep_connections_a_minute_elsewhere() -> None:
    show = "from django.db import connection as c; print(c.settings_dict['CONN_MAX_AGE'], c.pool and c.pool.max_size)"

    web = manage("shell", "-v", "0", "-c", show, **PRODUCTION_ENV, DATABASE_POOL="true", DATABASE_POOL_MAX_SIZE="7")
    other = manage("shell", "-v", "0", "-c", show, **PRODUCTION_ENV)

    assert web.stdout == "0 7\n", web.stderr
    assert other.stdout == "60 None\n", other.stderr


@pytest.mark.parametrize(
    ("value", "message"),
    [("0", "DATABASE_POOL_MAX_SIZE is malformed: expected 1 or more"), ("ten", "DATABASE_POOL_MAX_SIZE is malformed")],
)
def test_a_bad_pool_size_stops_start_up_naming_it(value: str, message: str) -> None:
    result = manage("check", **PRODUCTION_ENV, DATABASE_POOL="true", DATABASE_POOL_MAX_SIZE=value)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_the_web_process_refuses_to_keep_connections_without_a_pool() -> None:
    """Under ASGI a kept connection is never reused, only leaked: uvicorn must not start that way."""
    started = subprocess.run(
        [sys.executable, "-c", "import demoportal.asgi"],
        cwd=BASE_DIR,
        env={**PRODUCTION_ENV, "PATH": os.environ["PATH"], "DATABASE_CONN_MAX_AGE": "60"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert started.returncode != 0
    assert "set DATABASE_POOL=true" in started.stderr
