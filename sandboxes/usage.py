"""How much a sandbox is used: requests per minute (with the per-sandbox limit), last access, storage.

Counters live in Redis (the cache database), one key per sandbox per minute, expiring after two.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import redis
from django.conf import settings
from django.db import connection

from demoportal.core.exceptions import DomainError
from demoportal.core.health import heartbeat_instances, redis_client, simulator_quarantined
from sandboxes.models import Sandbox
from sandboxes.selectors import storage_by_schema

TOTALS_KEY = "sandbox-requests-total"  # hash: sandbox id -> requests ever
LAST_ACCESS_KEY = "sandbox-last-access"  # hash: sandbox id -> unix time of its latest request, until flushed


def requests_total() -> int:
    """Requests to every sandbox since counting began (Redis; survives restarts with AOF persistence)."""
    return sum(int(value) for value in redis_client().hvals(TOTALS_KEY))


def requests_of(*, sandbox: Sandbox) -> int:
    """Requests to ``sandbox`` since counting began."""
    value = redis_client().hget(TOTALS_KEY, str(sandbox.pk))
    return int(value) if value is not None else 0


def _minute_key(sandbox_id: int, minute: int) -> str:
    return f"sandbox-requests:{sandbox_id}:{minute}"


def request_record(*, sandbox: Sandbox) -> None:
    """Count one request to ``sandbox``; past SANDBOX_REQUESTS_PER_MINUTE this minute, refuse it with 429.

    One Redis round trip and no database write: the time of access goes to a Redis hash that
    ``last_access_flush`` (beat, every minute) writes to ``Sandbox.last_accessed_at`` in one statement.
    """
    now = time.time()
    minute = int(now // 60)
    key = _minute_key(sandbox.pk, minute)
    pipe = redis_client().pipeline()
    pipe.incr(key)
    pipe.expire(key, 120)
    pipe.hset(LAST_ACCESS_KEY, str(sandbox.pk), now)
    pipe.hincrby(TOTALS_KEY, str(sandbox.pk), 1)
    count = pipe.execute()[0]
    if count > settings.SANDBOX_REQUESTS_PER_MINUTE:
        raise DomainError(
            f"This sandbox has had more than {settings.SANDBOX_REQUESTS_PER_MINUTE} requests this minute.",
            status_code=429,
            retry_after=60 - int(now % 60),
        )


def last_accessed(*, sandbox: Sandbox) -> datetime | None:
    """When ``sandbox`` was last used: the newest access not yet flushed to the database, or the stored one."""
    pending = redis_client().hget(LAST_ACCESS_KEY, str(sandbox.pk))
    if pending is not None:
        return datetime.fromtimestamp(float(pending), tz=UTC)
    return sandbox.last_accessed_at


def last_access_flush() -> int:
    """Write the access times gathered in Redis to ``Sandbox.last_accessed_at`` (beat, every minute).

    The hash is renamed first, so accesses recorded meanwhile go to a fresh one and none is lost.
    Returns how many sandboxes it updated.
    """
    client = redis_client()
    flushing = f"{LAST_ACCESS_KEY}:flushing"
    try:
        client.rename(LAST_ACCESS_KEY, flushing)
    except redis.ResponseError:  # no such key: nothing was accessed since the last flush
        return 0
    accessed = {int(pk): datetime.fromtimestamp(float(ts), tz=UTC) for pk, ts in client.hgetall(flushing).items()}
    sandboxes = [Sandbox(pk=pk, last_accessed_at=at) for pk, at in accessed.items()]
    Sandbox.objects.bulk_update(sandboxes, ["last_accessed_at"], batch_size=500)
    client.delete(flushing)
    return len(sandboxes)


def requests_last_minute(*, sandbox: Sandbox) -> int:
    value = redis_client().get(_minute_key(sandbox.pk, int(time.time() // 60)))
    return int(value) if value is not None else 0


def storage_bytes(*, sandbox: Sandbox) -> int:
    """Bytes of the sandbox's schema in PostgreSQL: tables, indexes and TOAST."""
    return storage_by_schema([sandbox.schema_name]).get(sandbox.schema_name, 0)


def storage_warning(size: int) -> str | None:
    """What to tell sales when a sandbox outgrows SANDBOX_STORAGE_WARNING_BYTES (10 GB by default)."""
    limit = settings.SANDBOX_STORAGE_WARNING_BYTES
    if size <= limit:
        return None
    return f"Uses {size / 1024**3:.1f} GB, over the {limit / 1024**3:.0f} GB a sandbox should need."


def sandbox_health(*, sandbox: Sandbox) -> dict[str, str]:
    """'ok' or what is wrong, for the sandbox's schema and for the simulator that feeds it live values."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [sandbox.schema_name])
        database = "ok" if cursor.fetchone() else "no schema"
    simulator = "ok" if heartbeat_instances("simulator", redis_client()) else "no simulator heartbeat"
    quarantined = simulator_quarantined().get(str(sandbox.pk))
    if quarantined is not None:
        simulator = f"live values stopped for this sandbox ({quarantined}); retried when it changes or within minutes"
    return {"database": database, "simulator": simulator}
