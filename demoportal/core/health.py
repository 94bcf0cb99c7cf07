"""`GET /healthz`: is each part of the system alive? Also the heartbeats the worker and simulator write.

The check runs as the first middleware, before the tenant middleware touches the database, so it can
answer "database: failing" instead of crashing when PostgreSQL is down.
"""

from __future__ import annotations

import functools
import json
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import redis
from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

logger = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
# One sorted set per component: member = instance, score = when its heartbeat expires. Reading it costs the
# same however many other keys the cache database holds (a key scan grew with every sandbox's counters).
HEARTBEAT_KEY = "heartbeats:{component}"
# What an instance says about its work with its heartbeat (the simulator: its ticks), one hash per component:
# field = instance, value = JSON.
HEARTBEAT_STATUS_KEY = "heartbeats:{component}:status"
# A component counts as alive while its newest heartbeat is younger than this many intervals.
HEARTBEAT_MISSED_INTERVALS = 3
# The simulator is failing when this many ticks in a row failed, or none succeeded for this long (a live
# chart has visibly stopped), even though its loop still writes its heartbeat.
TICK_FAILURES_UNHEALTHY = 3
TICK_STALL_SECONDS = 30.0


def redis_client() -> redis.Redis:
    """The cache database's client; one per process and URL, so its connections are reused."""
    return _redis_client(settings.REDIS_CACHE_URL, settings.REDIS_SOCKET_TIMEOUT)


@functools.cache
def _redis_client(url: str, timeout: float) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def heartbeat_write(
    component: str, instance: str, *, client: redis.Redis | None = None, status: dict[str, Any] | None = None
) -> None:
    """Record that ``instance`` of ``component`` (worker, simulator) is alive now, with what it says about
    its work (``status``, JSON; the simulator's ticks). Never raises."""
    expires = time.time() + settings.HEARTBEAT_INTERVAL * HEARTBEAT_MISSED_INTERVALS
    try:
        pipe = (client or redis_client()).pipeline()
        pipe.zadd(HEARTBEAT_KEY.format(component=component), {instance: expires})
        if status is not None:
            pipe.hset(HEARTBEAT_STATUS_KEY.format(component=component), instance, json.dumps(status))
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("heartbeat of %s %s not written: %s", component, instance, exc)


def heartbeat_clear(component: str, instance: str) -> None:
    """Forget ``instance`` at once (a clean shutdown), rather than when its heartbeat expires. Never raises."""
    try:
        pipe = redis_client().pipeline()
        pipe.zrem(HEARTBEAT_KEY.format(component=component), instance)
        pipe.hdel(HEARTBEAT_STATUS_KEY.format(component=component), instance)
        pipe.execute()
    except redis.RedisError as exc:
        logger.warning("heartbeat of %s %s not cleared: %s", component, instance, exc)


def heartbeat_instances(component: str, client: redis.Redis) -> list[str]:
    """Instances of ``component`` whose heartbeat has not expired."""
    key = HEARTBEAT_KEY.format(component=component)
    now = time.time()
    pipe = client.pipeline()
    pipe.zremrangebyscore(key, "-inf", now)  # forget the ones that stopped without saying so
    pipe.zrangebyscore(key, now, "+inf")
    return sorted(member.decode() for member in pipe.execute()[1])


def check_database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {"ok": True}


def check_redis() -> dict[str, Any]:
    redis_client().ping()
    return {"ok": True}


def heartbeat_check(component: str) -> Callable[[], dict[str, Any]]:
    def check() -> dict[str, Any]:
        instances = heartbeat_instances(component, redis_client())
        if not instances:
            return {
                "ok": False,
                "error": f"no {component} heartbeat in the last {HEARTBEAT_MISSED_INTERVALS} intervals",
            }
        return {"ok": True, "instances": instances}

    return check


def simulator_statuses(instances: list[str]) -> dict[str, dict[str, Any]]:
    """What these simulator instances last said about their ticks (``simulator.TickRecord.status``), by
    instance; the status of instances no longer alive is dropped on the way."""
    client = redis_client()
    key = HEARTBEAT_STATUS_KEY.format(component="simulator")
    gone = {field.decode() for field in cast(list[bytes], client.hkeys(key))} - set(instances)
    if gone:
        client.hdel(key, *gone)  # the status of instances that stopped without saying so
    if not instances:
        return {}
    values = cast(list[bytes | None], client.hmget(key, instances))
    # An instance has said nothing yet before its first heartbeat with a status.
    return {instance: json.loads(raw) for instance, raw in zip(instances, values, strict=True) if raw is not None}


def simulator_quarantined() -> dict[str, str]:
    """Sandboxes (by id, as text) the live simulators set aside because their values failed, with why."""
    instances = heartbeat_instances("simulator", redis_client())
    return {k: v for status in simulator_statuses(instances).values() for k, v in status["quarantined"].items()}


def check_simulator() -> dict[str, Any]:
    """Alive (a heartbeat) and ticking: no instance whose last ``TICK_FAILURES_UNHEALTHY`` ticks failed or
    that has not ticked for ``TICK_STALL_SECONDS``. Sandboxes set aside because their values failed
    (``simulator.Quarantine``) are listed; the others still tick, so they alone do not make it failing."""
    result = heartbeat_check("simulator")()
    if not result["ok"]:
        return result
    problems: list[str] = []
    quarantined: dict[str, str] = {}
    now = time.time()
    for instance, status in simulator_statuses(result["instances"]).items():
        quarantined.update(status["quarantined"])
        if status["failed_ticks"] >= TICK_FAILURES_UNHEALTHY:
            problems.append(f"{instance}: its last {status['failed_ticks']} ticks failed ({status['error']})")
        elif now - status["last_tick_ok_at"] > TICK_STALL_SECONDS:
            problems.append(f"{instance}: no successful tick for {now - status['last_tick_ok_at']:.0f} s")
    if quarantined:
        result["quarantined"] = quarantined
    if problems:
        return {**result, "ok": False, "error": "; ".join(problems)}
    return result


CHECKS: dict[str, Callable[[], dict[str, Any]]] = {
    "database": check_database,
    "redis": check_redis,
    "worker": heartbeat_check("worker"),
    "simulator": check_simulator,
}


def health_check_add(name: str, check: Callable[[], dict[str, Any]]) -> None:
    """An app above this one reports in /healthz too (``crm``: each CRM's last success and backlog;
    ``analytics``: the dashboards' stale demos); its ``AppConfig.ready`` adds its check here, as the one-way
    house lets it (docs/architecture.md)."""
    CHECKS[name] = check


def health_report() -> tuple[bool, dict[str, dict[str, Any]]]:
    """Run every check; a check that raises is reported as failing with the error, never propagated."""
    results: dict[str, dict[str, Any]] = {}
    for name, check in CHECKS.items():
        try:
            results[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure of a dependency is the answer, not a crash
            results[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}".strip()}
    if not results["database"]["ok"]:
        connection.close()  # a broken connection is not reused by the next request
    return all(result["ok"] for result in results.values()), results


class HealthCheckMiddleware:
    """Answers GET /healthz on any host: 200 when every check is ok, 503 naming what is failing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path != HEALTH_PATH:
            return self.get_response(request)
        healthy, checks = health_report()
        return JsonResponse(
            {"status": "ok" if healthy else "failing", "checks": checks}, status=200 if healthy else 503
        )
