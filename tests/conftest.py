"""Shared fixtures. Tests run against the real PostgreSQL and Redis (test databases of their own).

One sandbox with a real schema is created per session and committed, so that code running in other
threads or processes (channels consumers, the Celery worker) sees it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from django.conf import settings
from django.db import connection
from django.db.backends.base.creation import TEST_DATABASE_PREFIX
from django.test.utils import setup_databases, teardown_databases
from django_tenants.utils import schema_context

from demoportal.core import catalogue
from sandboxes.models import Sandbox
from sandboxes.services import portal_tenant_ensure, sandbox_create
from simulation.models import Plant
from simulation.services import template_ensure

BASE_DIR = Path(__file__).resolve().parent.parent
TEST_SANDBOX_SEED = int(os.environ.get("TEST_SANDBOX_SEED", "20261203"))
TEST_SANDBOX_SLUG = "test-sandbox"


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = 30.0) -> Any:
    """Poll ``predicate`` until it returns something truthy; fail naming ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    with django_db_blocker.unblock():
        # pytest-django makes the test database only when a collected test is marked django_db or uses `db`; a
        # run of `committed_db` tests alone (a browser test on its own) would otherwise write to the database
        # DATABASE_URL names, and empty it of sandboxes at the end.
        made_here = None
        if not connection.settings_dict["NAME"].startswith(TEST_DATABASE_PREFIX):
            made_here = setup_databases(
                verbosity=0, interactive=False, aliases=dict.fromkeys(["default"]), serialized_aliases=set()
            )
        portal_tenant_ensure()
        for industry in sorted(catalogue.scenarios()):
            template_ensure(industry=industry)
        sandbox = sandbox_create(slug=TEST_SANDBOX_SLUG, name="Test Refinery", scenario="oil_gas")
        # One story for every run: which incidents fall in the first hours depends on the seed, and tests that
        # read the live plant must not pass or fail by the draw.
        Sandbox.objects.filter(pk=sandbox.pk).update(seed=TEST_SANDBOX_SEED)
        with schema_context(sandbox.schema_name):
            Plant.objects.update(seed=TEST_SANDBOX_SEED)
    yield
    with django_db_blocker.unblock():
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # a request may have left a sandbox schema on
        for created in Sandbox.objects.exclude(schema_name="public"):
            created.delete(force_drop=True)
        # Connections opened by async tests' executor threads outlive them; the test database can only be
        # dropped once they are gone.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        if made_here is not None:
            teardown_databases(made_here, verbosity=0)


@pytest.fixture
def committed_db(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """Database access with no test transaction around it: what the test writes is committed and seen by
    other threads and processes. The test removes what it made (cheaper than `transactional_db`, whose
    teardown empties every table)."""
    with django_db_blocker.unblock():
        connection.set_schema_to_public()  # type: ignore[attr-defined]  # setting up may have left a sandbox's on
        yield
        connection.set_schema_to_public()  # type: ignore[attr-defined]


@pytest.fixture
def sandbox(db: None) -> Sandbox:
    found: Sandbox = Sandbox.objects.get(slug=TEST_SANDBOX_SLUG)
    return found


@pytest.fixture
def test_redis() -> Iterator[redis.Redis]:
    """The test cache database, emptied before and after (it belongs to the tests alone)."""
    client = redis.Redis.from_url(settings.REDIS_CACHE_URL)
    client.flushdb()
    yield client
    client.flushdb()


def test_database_url() -> str:
    """The URL of the test database pytest-django created, for processes the tests start."""
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def procfile_command(process: str) -> str:
    """The Procfile's command for ``process`` (``web``, ``worker``, …): what honcho runs for `make run`. Run it
    with ``sh -c`` in a session of its own (``start_new_session=True``) and stop it with ``os.killpg``: the
    command may set variables before the program, so the shell stays its parent."""
    for line in (BASE_DIR / "Procfile").read_text().splitlines():
        if line.startswith(f"{process}:"):
            return line.removeprefix(f"{process}:").strip()
    raise AssertionError(f"the Procfile has no {process}: line")


def subprocess_environment(**overrides: str) -> dict[str, str]:
    return {**os.environ, "DJANGO_SETTINGS_MODULE": "demoportal.settings.test", "PYTHONUNBUFFERED": "1", **overrides}


@pytest.fixture(scope="session")
def celery_worker_process(django_db_setup: None, django_db_blocker: Any, tmp_path_factory: Any) -> Iterator[str]:
    """A real prefork Celery worker on the test database and test broker; yields its log file's path."""
    with django_db_blocker.unblock():
        database_url = test_database_url()
    log_path = tmp_path_factory.mktemp("worker") / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "--app", "demoportal.celery", "worker", "--pool", "prefork"),
                *("--concurrency", "1", "--loglevel", "INFO", "--hostname", "test-worker@%h", "--without-mingle"),
                *("--queues", "default,warmup"),
            ],
            cwd=BASE_DIR,
            env=subprocess_environment(DATABASE_URL=database_url, SANDBOX_POOL_SIZE="1"),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: b"ready." in log_path.read_bytes() or process.poll() is not None, "the Celery worker")
        if process.poll() is not None:
            pytest.fail(f"Celery worker exited:\n{log_path.read_text()}")
        yield str(log_path)
    finally:
        process.terminate()
        process.wait(timeout=30)
