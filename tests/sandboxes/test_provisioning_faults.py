"""A process killed in the middle of making or changing a sandbox leaves nothing behind that nobody repairs.

The kill lands mid-clone deterministically: the test holds an ACCESS EXCLUSIVE lock on one of the template's
tables (or the sandbox's own, for a drop), waits until pg_stat_activity shows the victim's clone (or drop)
blocked on it — so its transaction has already created the schema and some tables — then sends SIGKILL,
and only then releases the lock. PostgreSQL rolls the dead client's transaction back; what was committed
before it (a status, a lock) must not stay wedged.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import schema_context, schema_exists

from demoportal.core.models import User
from sandboxes.models import ENDED_STATUSES, Sandbox
from sandboxes.services import (
    pool_refill,
    sandbox_create,
    sandbox_reset,
    sandboxes_recover,
    transition_lock_name,
)
from sandboxes.tasks import pool_refill_task, sandboxes_auto_reset, sandboxes_expire
from simulation.models import Plant
from simulation.selectors.plant import plant_get
from simulation.services import template_ensure
from tests.conftest import BASE_DIR, subprocess_environment, wait_for
from tests.conftest import test_database_url as url_of_test_database

Status = Sandbox.Status
# The tests' own queue, so the session's shared worker (tests/conftest.py) never takes their tasks.
QUEUE = "faults"
# Copied after four other tables, so the schema and those tables exist when the clone blocks on it; it has no
# index but its primary key, so the clone's catalog reads (pg_get_indexdef locks an index's table) pass it.
BLOCKING_TABLE = "simulation_plant"
STEEL_CLONE = r'CREATE TABLE ".*\(LIKE "template_steel"'


def database_url() -> str:
    with schema_context("public"):
        return url_of_test_database()


def database_url_as(application_name: str) -> str:
    """The test database's URL for a process whose connections show as ``application_name`` in
    pg_stat_activity, so the test finds that process's statement and no other's."""
    return f"{database_url()}?application_name={application_name}"


@pytest.fixture
def start_worker(committed_db: None, tmp_path: Any) -> Iterator[Callable[[], subprocess.Popen[bytes]]]:
    """Starts warm-up workers as the Procfile does (solo pool: the process that runs the task is the worker
    itself), on the test database with a pool size of 1; any still running at the end are stopped. Worker
    N's connections are named ``faults-N``."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> subprocess.Popen[bytes]:
        name = f"faults-{len(started)}"
        log_path = tmp_path / f"{name}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "celery", "--app", "demoportal.celery", "worker", "--pool", "solo"),
                    *("--loglevel", "INFO", "--hostname", f"{name}@%h", "--without-mingle"),
                    *("--without-gossip", "--queues", QUEUE),
                ],
                cwd=BASE_DIR,
                env=subprocess_environment(DATABASE_URL=database_url_as(name), SANDBOX_POOL_SIZE="1"),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        started.append(process)
        wait_for(lambda: b"ready." in log_path.read_bytes() or process.poll() is not None, "the Celery worker")
        assert process.poll() is None, log_path.read_text()
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


@contextmanager
def table_locked(schema: str, table: str = BLOCKING_TABLE) -> Iterator[None]:
    """Hold an ACCESS EXCLUSIVE lock on ``schema.table`` from a connection of the test's own."""
    with psycopg.connect(database_url()) as lock_holder:
        lock_holder.execute(f'LOCK TABLE "{schema}"."{table}" IN ACCESS EXCLUSIVE MODE')
        yield
        lock_holder.rollback()


def blocked_backend(statement: str, application_name: str | None) -> tuple[int, str] | None:
    """The (pid, query) of a backend of ``application_name`` (any, if None) whose ``statement`` (a regular
    expression) waits for a lock, if there is one now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, query FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND (%s::text IS NULL OR application_name = %s)",
            [application_name, application_name],
        )
        for pid, query in cursor.fetchall():
            if re.match(statement, query):
                return int(pid), str(query)
    return None


def backend_blocked_on(statement: str, application_name: str | None = None) -> tuple[int, str]:
    """Wait until ``blocked_backend`` finds one; its (pid, query)."""
    found: tuple[int, str] = wait_for(
        lambda: blocked_backend(statement, application_name), f"a statement matching {statement!r} to block"
    )
    return found


def backend_gone(pid: int) -> None:
    """Wait until the dead client's backend has rolled back and exited."""

    def gone() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid])
            return cursor.fetchone() is None

    wait_for(gone, f"backend {pid} to roll back and exit")


def kill_mid_statement(
    victim: subprocess.Popen[bytes], *, locked_schema: str, statement: str, application_name: str
) -> str:
    """SIGKILL ``victim`` (whose connections are named ``application_name``) while its ``statement`` waits on
    a lock the test holds; returns that statement."""
    with table_locked(locked_schema):
        pid, query = backend_blocked_on(statement, application_name)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=30)
    backend_gone(pid)
    return query


def clone_target(query: str) -> str:
    """The schema a ``CREATE TABLE "target"."t" (LIKE …)`` statement writes to."""
    match = re.match(r'CREATE TABLE "([^"]+)"\.', query)
    assert match is not None, query
    return match.group(1)


def assert_schemas_and_sandboxes_agree() -> None:
    """Every schema belongs to a sandbox whose schema should exist, and every such sandbox has its schema;
    no sandbox is left in a state only a running transition may hold."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
        )
        schemas = {name for (name,) in cursor.fetchall()}
    live = set(Sandbox.objects.exclude(status__in=ENDED_STATUSES).values_list("schema_name", flat=True))
    assert schemas - live == set(), "schemas without a sandbox"
    assert live - schemas == set(), "sandboxes without a schema"
    stuck = Sandbox.objects.filter(status__in=[Status.PROVISIONING, Status.RESETTING])
    assert list(stuck.values_list("slug", "status")) == []


def pooled(industry: str) -> list[Sandbox]:
    return list(Sandbox.objects.filter(kind="demo", status=Status.POOLED, industry=industry))


def steel_demos_delete() -> None:
    """Remove every steel demo sandbox, once no refill of the steel pool is running anywhere."""
    with psycopg.connect(database_url()) as waiter:
        waiter.execute("SELECT pg_advisory_lock(hashtextextended('sandbox-pool-refill:steel', 0))")
        for sandbox in Sandbox.objects.filter(kind="demo", industry="steel"):
            sandbox.delete(force_drop=True)
        waiter.execute("SELECT pg_advisory_unlock(hashtextextended('sandbox-pool-refill:steel', 0))")


@pytest.fixture
def steel_pool_empty(committed_db: None) -> Iterator[None]:
    steel_demos_delete()
    yield
    steel_demos_delete()


def kill_refill_mid_clone(worker: subprocess.Popen[bytes], *, application_name: str) -> str:
    """Send ``worker`` a refill of the empty steel pool and SIGKILL it mid-clone; returns the clone's statement.

    Another worker of the test session (celery_worker_process, on the warm-up queue, pool size 1) may be
    filling the steel pool at that moment: then this refill rightly makes nothing (the refill lock is taken,
    or the pool is full by the time it counts) and returns. The test then waits that refill out, empties the
    pool again and sends another.
    """
    for _ in range(3):
        refill = pool_refill_task.apply_async(kwargs={"industry": "steel"}, queue=QUEUE)
        with table_locked("template_steel"):
            found = wait_for(
                lambda: blocked_backend(STEEL_CLONE, application_name) or refill.ready(),  # noqa: B023
                "the refill to clone (and block) or to return",
            )
            if isinstance(found, tuple):
                pid, query = int(found[0]), str(found[1])
                worker.send_signal(signal.SIGKILL)
                worker.wait(timeout=30)
        if isinstance(found, tuple):
            backend_gone(pid)
            return query
        assert refill.get(timeout=10) == 0, "a refill that returns without cloning made nothing"
        steel_demos_delete()
    pytest.fail("three refills in a row found another worker filling the steel pool")


@pytest.mark.usefixtures("steel_pool_empty")
def test_a_warmup_worker_killed_mid_clone_leaves_no_orphan_and_the_pool_refills(
    start_worker: Callable[[], subprocess.Popen[bytes]],
) -> None:
    worker = start_worker()

    query = kill_refill_mid_clone(worker, application_name="faults-0")

    assert not schema_exists(clone_target(query))
    assert pooled("steel") == []
    assert_schemas_and_sandboxes_agree()
    # The next refill (beat sends one every minute) is not shut out by the dead worker's refill lock. Another
    # worker of the test session (celery_worker_process, on the warm-up queue) may be running a refill of
    # its own at this moment and hold the live lock: then this one rightly makes nothing, and the pool is
    # filled all the same, so what counts is the pool, refilled once.
    start_worker()

    def refilled() -> bool:
        pool_refill_task.apply_async(kwargs={"industry": "steel"}, queue=QUEUE).get(timeout=60)
        return len(pooled("steel")) == 1

    wait_for(refilled, "the steel pool to be refilled after the kill", timeout=120)
    (sandbox,) = pooled("steel")
    with schema_context(sandbox.schema_name):
        assert plant_get() is not None
    assert_schemas_and_sandboxes_agree()


@pytest.fixture
def steel_sandbox(steel_pool_empty: None) -> Sandbox:
    return sandbox_create(slug="steel-victim", name="Victim", scenario="steel")


def test_a_worker_killed_mid_reset_leaves_a_sandbox_the_recovery_sweep_puts_back(
    steel_sandbox: Sandbox, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    Sandbox.objects.filter(pk=steel_sandbox.pk).update(reset_at=timezone.now() - timedelta(days=2))  # reset is due
    worker = start_worker()
    sandboxes_auto_reset.apply_async(queue=QUEUE)

    query = kill_mid_statement(
        worker, locked_schema="template_steel", statement=STEEL_CLONE, application_name="faults-0"
    )

    assert clone_target(query) == steel_sandbox.schema_name  # killed while re-cloning it
    steel_sandbox.refresh_from_db()
    assert steel_sandbox.status == Status.RESETTING  # committed before the clone; its process is gone

    assert sandboxes_recover() == 1

    steel_sandbox.refresh_from_db()
    assert steel_sandbox.status == Status.READY  # the reset rolled back: the plant is as it was
    with schema_context(steel_sandbox.schema_name):
        assert plant_get() is not None
    assert steel_sandbox.audit_entries.filter(action="recovered", from_status="resetting", to_status="ready").exists()
    assert_schemas_and_sandboxes_agree()
    sandbox_reset(sandbox=steel_sandbox)  # and it can be reset again
    assert steel_sandbox.status == Status.READY


def test_a_worker_killed_mid_expiry_leaves_a_schema_the_recovery_sweep_drops(
    steel_sandbox: Sandbox, start_worker: Callable[[], subprocess.Popen[bytes]]
) -> None:
    Sandbox.objects.filter(pk=steel_sandbox.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    worker = start_worker()
    sandboxes_expire.apply_async(queue=QUEUE)

    kill_mid_statement(
        worker, locked_schema=steel_sandbox.schema_name, statement=r"DROP SCHEMA", application_name="faults-0"
    )

    steel_sandbox.refresh_from_db()
    assert steel_sandbox.status == Status.EXPIRED  # committed before the drop
    assert schema_exists(steel_sandbox.schema_name)  # the drop rolled back with its process

    assert sandboxes_recover() == 1

    steel_sandbox.refresh_from_db()
    assert not schema_exists(steel_sandbox.schema_name)
    assert steel_sandbox.ended_at is not None  # so the retention purge removes the record in time
    assert_schemas_and_sandboxes_agree()


@pytest.mark.usefixtures("steel_pool_empty")
def test_a_request_killed_mid_provisioning_leaves_neither_login_nor_sandbox() -> None:
    """The web path: sandbox_provision with an empty pool clones during the request, in one transaction
    with the prospect's new login; the process serving it dies mid-clone."""
    email = "killed-mid-request@steel.example"
    provision = (
        "from sandboxes.services import sandbox_provision; "
        f"sandbox_provision(email={email!r}, product='thermalcommand', industry='steel')"
    )
    web = subprocess.Popen(
        [sys.executable, "manage.py", "shell", "--command", provision],
        cwd=BASE_DIR,
        env=subprocess_environment(DATABASE_URL=database_url_as("faults-web"), SANDBOX_POOL_SIZE="0"),
    )
    try:
        kill_mid_statement(web, locked_schema="template_steel", statement=STEEL_CLONE, application_name="faults-web")
    finally:
        if web.poll() is None:
            web.kill()
            web.wait()

    assert not User.objects.filter(email=email).exists()
    assert not Sandbox.objects.filter(industry="steel", kind="demo").exists()
    assert_schemas_and_sandboxes_agree()


@pytest.fixture
def stale_steel_template(steel_pool_empty: None, settings: Any) -> Iterator[Sandbox]:
    """A pooled steel clone, and a steel template whose scenario version is out of date, so that the next
    ``template_ensure`` rebuilds the template and drops the pool; the template is current again afterwards."""
    settings.SANDBOX_POOL_SIZE = 1
    pool_refill(industry="steel")
    (clone,) = pooled("steel")
    with schema_context("template_steel"):
        Plant.objects.update(scenario_version="stale")
    yield clone
    connection.set_schema_to_public()  # type: ignore[attr-defined]
    template_ensure(industry="steel")


def test_a_template_rebuild_killed_mid_way_leaves_no_pooled_sandbox_without_its_schema(
    stale_steel_template: Sandbox,
) -> None:
    rebuild = subprocess.Popen(
        [
            *(sys.executable, "manage.py", "shell", "--command"),
            "from simulation.services import template_ensure; template_ensure(industry='steel')",
        ],
        cwd=BASE_DIR,
        env=subprocess_environment(DATABASE_URL=database_url_as("faults-rebuild")),
    )
    try:
        # Hold the pooled clone's row, so the rebuild blocks deleting it, after its schema is dropped.
        with psycopg.connect(database_url()) as row_holder:
            row_holder.execute("SELECT 1 FROM sandboxes_sandbox WHERE id = %s FOR UPDATE", [stale_steel_template.pk])
            pid, _ = backend_blocked_on(r'DELETE FROM "sandboxes_sandbox"', "faults-rebuild")
            rebuild.send_signal(signal.SIGKILL)
            rebuild.wait(timeout=30)
            row_holder.rollback()
        backend_gone(pid)
    finally:
        if rebuild.poll() is None:
            rebuild.kill()
            rebuild.wait()

    assert_schemas_and_sandboxes_agree()


@pytest.mark.django_db
def test_the_recovery_sweep_leaves_a_transition_still_running_alone() -> None:
    sandbox = sandbox_create(slug="steel-busy", name="Busy", scenario="steel")
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Status.RESETTING)
    with psycopg.connect(database_url(), autocommit=True) as resetter:  # a live process, mid-reset
        resetter.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [transition_lock_name(sandbox)])

        assert sandboxes_recover() == 0

        sandbox.refresh_from_db()
        assert sandbox.status == Status.RESETTING
