"""PostgreSQL unreachable: every page and API call answers 503 with Retry-After instead of a 500, and the
process serves again on the first request after PostgreSQL is back (no restart).

``DatabaseOutageMiddleware`` sits before the tenant middleware, whose Domain lookup is the first query of
every request: it opens (or health-checks) the request's connection itself, so an unreachable server is
caught there, and ``process_exception`` catches a connection lost later, in a view. Only errors that mean
"no usable connection" count; a query PostgreSQL refuses (DataError, ProgrammingError, a cancelled or
too-big statement) is a bug and stays a 500.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import psycopg
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

# Long enough for a restart or a failover, short enough that a reader's retry soon finds it back.
RETRY_AFTER_SECONDS = 10

# SQLSTATEs the server sends when it has no session to give or is ending this one: the connection
# exception class (08), shutting down or starting up (57P01-57P03), no free connection slot (53300).
UNAVAILABLE_SQLSTATE_CLASSES = ("08",)
UNAVAILABLE_SQLSTATES = {"57P01", "57P02", "57P03", "53300"}


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or dropped the connection (not a refused query)."""
    if isinstance(exc, InterfaceError):
        return True  # Django's "connection already closed", psycopg's unusable connection
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    if not isinstance(cause, psycopg.Error):
        return False
    # Without a SQLSTATE, the connection itself failed: refused, timed out, closed by the server mid-query,
    # or (with a connection pool) none to be had in time.
    sqlstate = cause.sqlstate
    if sqlstate is None:
        return isinstance(cause, psycopg.OperationalError)
    return sqlstate.startswith(UNAVAILABLE_SQLSTATE_CLASSES) or sqlstate in UNAVAILABLE_SQLSTATES


def outage_response(request: HttpRequest, exc: BaseException) -> HttpResponse:
    """503 with Retry-After: the API's error shape under /api/, the site's page elsewhere."""
    logger.warning("database unavailable for %s %s: %s", request.method, request.path, exc)
    response: HttpResponse
    if request.path.startswith("/api/"):
        detail = "The database is briefly unavailable. Try again shortly."
        response = JsonResponse({"detail": detail, "errors": {}}, status=503)
    else:
        # Rendered without the request: context processors would read the session and user from the database.
        page = render_to_string("503.html", {"retry_after": RETRY_AFTER_SECONDS})
        response = HttpResponse(page, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


class DatabaseOutageMiddleware:
    """503 + Retry-After while PostgreSQL is unreachable, on every host; see the module's docstring."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            # What the first query would do (CONN_HEALTH_CHECKS): drop a dead reused connection, open one.
            connection.close_if_health_check_failed()
            connection.ensure_connection()
        except DatabaseError as exc:
            if not database_unavailable(exc):
                raise
            return outage_response(request, exc)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            return outage_response(request, exception)
        return None
