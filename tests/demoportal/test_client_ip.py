"""Whose address a request comes from: X-Forwarded-For counts only when the connection comes from a proxy
named in TRUSTED_PROXIES (default: none), so a client cannot rotate the header to escape allauth's
per-address sign-in throttling.

The web process runs exactly as the Procfile starts it (uvicorn's flags included), on the test database,
with throttling on (tests/demoportal/throttled_settings.py); every request comes from 127.0.0.1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests import conftest
from tests.conftest import BASE_DIR, procfile_command, subprocess_environment, wait_for
from tests.demoportal.test_csp_browser import answers
from tests.demoportal.test_health import free_port

pytestmark = pytest.mark.django_db

CSRF = "k" * 32  # an unmasked CSRF secret, sent as cookie and form field like a browser's
CLIENT = "203.0.113.7"


@pytest.fixture
def web(request: pytest.FixtureRequest, tmp_path: Path, test_redis: redis.Redis) -> Iterator[str]:
    """The Procfile's web process with TRUSTED_PROXIES set to the test's parameter; yields its address."""
    port = free_port()
    env = subprocess_environment(
        DJANGO_SETTINGS_MODULE="tests.demoportal.throttled_settings",
        DATABASE_URL=conftest.test_database_url(),
        PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{subprocess_environment()['PATH']}",
        TRUSTED_PROXIES=request.param,
    )
    with (tmp_path / "web.log").open("wb") as log:
        process = subprocess.Popen(
            ["sh", "-c", procfile_command("web")],
            cwd=BASE_DIR,
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # the shell and uvicorn, stopped together
        )
    try:
        url = f"http://127.0.0.1:{port}/"
        wait_for(lambda: answers(url) or process.poll() is not None, "the web process to start")
        assert process.poll() is None, (tmp_path / "web.log").read_text()
        yield url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def sign_in_attempt(url: str, *, forwarded_for: str, email: str) -> int:
    """POST the sign-in form with a wrong password, claiming to be ``forwarded_for``; the response's status."""
    attempt = urllib.request.Request(  # noqa: S310  # our own server on 127.0.0.1
        f"{url}accounts/login/",
        data=f"csrfmiddlewaretoken={CSRF}&login={email}&password=wrong".encode(),
        headers={"Cookie": f"csrftoken={CSRF}", "X-Forwarded-For": forwarded_for, "Host": "localhost"},
    )
    try:
        with urllib.request.urlopen(attempt, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.parametrize("web", [""], indirect=True)
def test_rotating_x_forwarded_for_from_a_client_does_not_escape_the_sign_in_limit(web: str) -> None:
    codes = [sign_in_attempt(web, forwarded_for=f"198.51.100.{n}", email=f"u{n}@example.com") for n in range(4)]

    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("web", ["10.0.0.2"], indirect=True)
def test_a_client_that_is_not_the_configured_proxy_is_not_believed(web: str) -> None:
    codes = [sign_in_attempt(web, forwarded_for=f"198.51.100.{n}", email=f"x{n}@example.com") for n in range(4)]

    assert codes == [200, 200, 200, 429]


@pytest.mark.parametrize("web", ["127.0.0.1"], indirect=True)
def test_behind_a_configured_proxy_each_forwarded_client_has_its_own_limit(web: str) -> None:
    rotated = [sign_in_attempt(web, forwarded_for=f"198.51.100.{n}", email=f"v{n}@example.com") for n in range(4)]
    # A client that writes its own X-Forwarded-For: the proxy appends the address it saw, which is what counts.
    one_client = [
        sign_in_attempt(web, forwarded_for=f"192.0.2.{n}, {CLIENT}", email=f"w{n}@example.com") for n in range(4)
    ]

    assert rotated == [200, 200, 200, 200]
    assert one_client == [200, 200, 200, 429]
