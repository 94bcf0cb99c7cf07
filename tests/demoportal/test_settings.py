"""Configuration comes only from the environment, and bad values stop start-up naming the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from demoportal.settings.base import sender_with_name
from tests.conftest import BASE_DIR, subprocess_environment

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "demoportal.settings.production",
    "DJANGO_SECRET_KEY": "x7Hq9-production-grade-secret-Kp2vLm8NwQ4rTz6YbJc3FgUa5SdXe1Ho0Ri",
    "DATABASE_URL": "postgres://demo@db.internal:5432/demoportal",
    "REDIS_URL": "redis://cache.internal:6379",
    "DEMO_DOMAIN": "demo.example.com",
    "PORTAL_HOST": "portal.example.com",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = subprocess_environment(**env)
    for name, value in env.items():
        if value == "<unset>":
            del environment[name]
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=60
    )


def test_check_deploy_passes_under_production_settings() -> None:
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DJANGO_SECRET_KEY": "<unset>"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "short"}, "DJANGO_SECRET_KEY must be a real secret"),
        ({"DJANGO_SECRET_KEY": "django-insecure-" + "a" * 50}, "DJANGO_SECRET_KEY must be a real secret"),
        ({"DATABASE_URL": "<unset>"}, "DATABASE_URL"),
        ({"DATABASE_URL": "mysql://root@localhost/demo"}, "DATABASE_URL is malformed"),
        ({"DATABASE_URL": "postgres://demo@db.internal:5432"}, "DATABASE_URL is malformed: it names no database"),
        ({"REDIS_URL": "cache.internal:6379"}, "REDIS_URL is malformed"),
        ({"DJANGO_DEBUG": "maybe-later"}, "DJANGO_DEBUG"),
        ({"HEARTBEAT_INTERVAL": "soon"}, "HEARTBEAT_INTERVAL is malformed"),
        ({"EMAIL_PORT": "smtp"}, "EMAIL_PORT is malformed"),
        ({"TRUSTED_PROXIES": "10.0.0.2,lb.internal"}, "TRUSTED_PROXIES is malformed: 'lb.internal'"),
        ({"DEFAULT_FROM_EMAIL": "Demo Portal"}, "DEFAULT_FROM_EMAIL is not an e-mail address"),
    ],
)
def test_production_start_up_fails_naming_the_bad_variable(overrides: dict[str, str], message: str) -> None:
    result = manage("check", **{**PRODUCTION_ENV, **overrides})

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    ("given", "sender"),
    [
        ("demo@vendor.example", "Process Heat Demo Portal <demo@vendor.example>"),  # a bare address gets the name
        ("Acme Demos <demos@acme.example>", "Acme Demos <demos@acme.example>"),  # a name given stays
    ],
)
def test_mail_always_comes_from_a_named_sender(given: str, sender: str) -> None:
    assert sender_with_name(given, "Process Heat Demo Portal") == sender
