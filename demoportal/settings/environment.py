"""The one ``env`` object that reads configuration, with errors that name the variable at fault."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured


class Env(environ.Env):
    """django-environ's ``Env``, but a malformed value fails start-up with the variable's name in the message."""

    def get_value(
        self, var: str, cast: Any = None, default: Any = environ.Env.NOTSET, parse_default: bool = False
    ) -> Any:
        try:
            return super().get_value(var, cast=cast, default=default, parse_default=parse_default)
        except ImproperlyConfigured as exc:
            raise ImproperlyConfigured(f"{var}: {exc}") from exc
        except (ValueError, TypeError) as exc:
            raise ImproperlyConfigured(f"{var} is malformed ({exc}); see .env.example") from exc

    def bool(self, var: str, default: Any = environ.Env.NOTSET) -> bool:
        """Strict: a value that is neither true-ish nor false-ish is an error, not a silent False."""
        value = self.get_value(var, cast=str, default=default)
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in self.BOOLEAN_TRUE_STRINGS:
            return True
        if text in ("false", "off", "no", "n", "0", ""):
            return False
        raise ImproperlyConfigured(f"{var} is malformed: expected true or false, got {value!r}")

    def url_with_scheme(self, var: str, schemes: tuple[str, ...], default: Any = environ.Env.NOTSET) -> str:
        """A URL whose scheme is one of ``schemes`` and which names a host, e.g. ``REDIS_URL``."""
        value = str(self.get_value(var, default=default))
        parts = urlsplit(value)
        if parts.scheme not in schemes or not (parts.hostname or parts.path):
            raise ImproperlyConfigured(
                f"{var} is malformed: expected {' or '.join(s + '://' for s in schemes)}..., got {value!r}"
            )
        return value

    def postgres_db(self, var: str = "DATABASE_URL", default: Any = environ.Env.NOTSET) -> dict[str, Any]:
        value = self.url_with_scheme(var, ("postgres", "postgresql", "pgsql", "postgis"), default=default)
        config = dict(self.db_url_config(value))
        if not config.get("NAME"):
            raise ImproperlyConfigured(f"{var} is malformed: it names no database, got {value!r}")
        return config


env = Env()
