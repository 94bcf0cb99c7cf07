"""PostgreSQL briefly unreachable: pages and the API answer 503 with Retry-After, websockets close with 1013,
and the same web process (and Celery worker) serves again once PostgreSQL is back.

The outage is real: a private PostgreSQL 15 (initdb + pg_ctl in a temporary directory, never the shared
server) holding a copy of the test database, stopped and started again under a running uvicorn.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.db import DatabaseError, connection, connections, transaction
from django.http import HttpResponse
from django.test import RequestFactory
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as websocket_connect
from websockets.typing import Origin

from demoportal.core.models import User
from demoportal.core.outage import RETRY_AFTER_SECONDS, DatabaseOutageMiddleware, database_unavailable
from sandboxes.tasks import sandbox_schema_report
from tests.conftest import BASE_DIR, TEST_SANDBOX_SLUG, subprocess_environment, wait_for
from tests.demoportal.test_health import free_port
from tests.private_postgres import POSTGRES_BIN, PrivatePostgres, private_postgres

CLOSE_TRY_AGAIN_LATER = 1013
STAFF_EMAIL = "outage-staff@vendor.example"


@dataclass
class PortalCopy:
    """A private server holding a copy of the test database, and a signed-in staff member's session there."""

    server: PrivatePostgres
    session_key: str

    def url(self) -> str:
        return self.server.url("portal")


@pytest.fixture(scope="module")
def private_portal(django_db_setup: None, django_db_blocker: Any) -> Iterator[PortalCopy]:
    """A copy of the test database (templates, the test sandbox) with a signed-in staff member, on a private
    PostgreSQL the tests may stop."""
    with private_postgres() as server:
        with django_db_blocker.unblock():
            session_key = staff_session_create()
            try:
                source = connection.settings_dict
                dump = subprocess.run(
                    [
                        *(str(POSTGRES_BIN / "pg_dump"), "--host", source["HOST"], "--port", str(source["PORT"])),
                        *("--username", source["USER"], "--no-owner", source["NAME"]),
                    ],
                    check=True,
                    capture_output=True,
                ).stdout
            finally:
                User.objects.filter(email=STAFF_EMAIL).delete()  # the copy has it; the shared test database not
        with psycopg.connect(server.url("postgres"), autocommit=True) as admin:
            admin.execute("CREATE DATABASE portal")
        subprocess.run(
            [str(POSTGRES_BIN / "psql"), "--quiet", "--set", "ON_ERROR_STOP=1", server.url("portal")],
            input=dump,
            check=True,
            capture_output=True,
        )
        yield PortalCopy(server=server, session_key=session_key)


def staff_session_create() -> str:
    """A staff member signed in: the key of their session (committed, so a copy of the database has it)."""
    staff = User.objects.create_user(email=STAFF_EMAIL, password="pw", is_staff=True)
    session = SessionStore()
    session[SESSION_KEY] = str(staff.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = staff.get_session_auth_hash()
    session.create()
    assert session.session_key is not None
    return session.session_key


@pytest.fixture(scope="module")
def web(private_portal: PortalCopy, tmp_path_factory: Any) -> Iterator[str]:
    """uvicorn serving the real ASGI app on the private server; yields its base URL."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("web") / "uvicorn.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "uvicorn", "demoportal.asgi:application", "--port", str(port)),
                *("--ws", "websockets-sansio", "--log-level", "warning"),
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=private_portal.url()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: get(base, "/healthz", "localhost")[0] in (200, 503), "uvicorn to start")
        yield base
        assert process.poll() is None, log_path.read_text()
        assert "Traceback" not in log_path.read_text(), log_path.read_text()
    finally:
        process.terminate()
        process.wait(timeout=30)


def get(base: str, path: str, host: str, session: str = "") -> tuple[int, Message, bytes]:
    """GET with the staff member's session; (status, headers (case-insensitive), body), status 0 if no answer."""
    headers = {"Host": host, "Cookie": f"sessionid={session}"}
    request = urllib.request.Request(base + path, headers=headers)  # noqa: S310  # http://127.0.0.1, our own server
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()
    except OSError:
        return 0, Message(), b""


SANDBOX_HOST = f"{TEST_SANDBOX_SLUG}.localhost"
PAGES = {
    "a portal page": ("/sandboxes/", "localhost"),
    "a sandbox page": ("/", SANDBOX_HOST),
}
API = ("/api/v1/sandboxes", "localhost")


def websocket_close_code(base: str, session: str) -> int | None:
    """Connect to the sandbox's ping route as the staff member and ping; the close code the server sends
    (None: it answered)."""
    port = int(base.rsplit(":", 1)[1])
    url = f"ws://{SANDBOX_HOST}:{port}/ws/ping/"  # the Host header; the socket goes to 127.0.0.1
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        with websocket_connect(
            url,
            sock=sock,
            origin=Origin(f"http://{SANDBOX_HOST}"),
            additional_headers={"Cookie": f"sessionid={session}"},
            open_timeout=30,
        ) as client:
            client.send(json.dumps({"type": "ping"}))
            assert json.loads(client.recv(timeout=30))["type"] == "pong"
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None
    return None


def test_pages_and_api_answer_503_while_postgresql_is_down_and_recover_without_a_restart(
    private_portal: PortalCopy, web: str
) -> None:
    staff_session = private_portal.session_key

    def all_succeed() -> bool:
        return all(get(web, path, host, staff_session)[0] == 200 for path, host in [*PAGES.values(), API])

    wait_for(all_succeed, "every request to succeed before the outage")

    private_portal.server.stop()
    try:
        for what, (path, host) in PAGES.items():
            status, headers, body = get(web, path, host, staff_session)
            assert (what, status) == (what, 503)
            assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
            assert headers["Content-Type"].startswith("text/html")
            assert b"back in a moment" in body
            assert b"Traceback" not in body
        status, headers, body = get(web, *API, staff_session)
        assert status == 503
        assert headers["Retry-After"] == str(RETRY_AFTER_SECONDS)
        assert json.loads(body) == {"detail": "The database is briefly unavailable. Try again shortly.", "errors": {}}
        assert websocket_close_code(web, staff_session) == CLOSE_TRY_AGAIN_LATER
    finally:
        private_portal.server.start()

    # The same uvicorn, not restarted: the next requests reach the database again.
    assert all_succeed()
    assert websocket_close_code(web, staff_session) is None  # connected and answered


def refused_query(*statements: str) -> DatabaseError:
    """The error PostgreSQL answers ``statements`` with, run in a savepoint the test's transaction survives."""

    def run() -> None:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)

    with pytest.raises(DatabaseError) as refused:
        run()
    return refused.value


def refused_connection() -> DatabaseError:
    unreachable = connections.create_connection("default")
    unreachable.settings_dict = {**unreachable.settings_dict, "PORT": free_port()}  # nothing listens there
    with pytest.raises(DatabaseError) as refused:
        unreachable.ensure_connection()
    return refused.value


@pytest.mark.django_db
def test_only_errors_that_mean_no_database_count_as_an_outage() -> None:
    assert database_unavailable(refused_connection())
    # A query the database refuses is a bug to see as a 500, not an outage to wait out.
    assert not database_unavailable(refused_query("SELECT 1/0"))
    assert not database_unavailable(refused_query("SELECT * FROM no_such_table"))
    # These two are OperationalErrors too (program limit exceeded, query cancelled), yet no outage.
    assert not database_unavailable(refused_query("SELECT chr(0)"))
    assert not database_unavailable(refused_query("SET LOCAL statement_timeout = 1", "SELECT pg_sleep(1)"))
    assert not database_unavailable(ValueError("not a database error"))


@pytest.mark.django_db
def test_a_view_that_loses_the_database_mid_request_answers_503() -> None:
    middleware = DatabaseOutageMiddleware(HttpResponse)
    request = RequestFactory().get("/api/v1/sandboxes")

    response = middleware.process_exception(request, refused_connection())

    assert response is not None
    assert response.status_code == 503
    assert response["Retry-After"] == str(RETRY_AFTER_SECONDS)
    assert middleware.process_exception(request, refused_query("SELECT 1/0")) is None  # a bug stays a 500


@pytest.fixture
def worker(private_portal: PortalCopy, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A Celery worker on the private server, on a queue of its own (the session's worker uses the test
    database)."""
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "--app", "demoportal.celery", "worker", "--pool", "solo"),
                *("--loglevel", "INFO", "--hostname", "outage@%h", "--without-mingle", "--without-gossip"),
                *("--queues", WORKER_QUEUE),
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=private_portal.url()),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: b"ready." in log_path.read_bytes() or process.poll() is not None, "the Celery worker")
        assert process.poll() is None, log_path.read_text()
        yield process
    finally:
        process.terminate()
        process.wait(timeout=30)


WORKER_QUEUE = "outage"


def test_a_worker_survives_an_outage_and_runs_tasks_again_after_it(
    private_portal: PortalCopy, worker: subprocess.Popen[bytes]
) -> None:
    def schema_report() -> dict[str, str]:
        report: dict[str, str] = sandbox_schema_report.apply_async(queue=WORKER_QUEUE).get(timeout=60)
        return report

    assert schema_report()["database"] == "public"

    private_portal.server.stop()
    try:
        with pytest.raises(DatabaseError):  # the task fails, and says why
            schema_report()
    finally:
        private_portal.server.start()

    assert schema_report()["database"] == "public"  # the same worker, not restarted
    assert worker.poll() is None
