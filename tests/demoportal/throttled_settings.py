"""Test settings with allauth's sign-in throttling on (tests/ settings turn it off), for a server process."""

from demoportal.settings.test import *  # noqa: F403

ACCOUNT_RATE_LIMITS: dict[str, str] | bool = {"login": "3/m/ip"}  # type: ignore[no-redef]  # at most three sign-in attempts a minute from one address
