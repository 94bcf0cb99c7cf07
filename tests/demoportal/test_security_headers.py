"""Security headers on every response (pages, error pages, middleware short-circuits, static files) and
a Content-Security-Policy whose per-request nonce is on every inline script the pages render."""

from __future__ import annotations

import re
from collections.abc import Callable
from html.parser import HTMLParser
from typing import Any

import pytest
import redis
from csp.middleware import CSPMiddleware
from django.http import HttpResponse, HttpResponseBase
from django.template import RequestContext, Template
from django.test import Client, RequestFactory

from demoportal.core.models import User
from sandboxes.models import Sandbox
from tests.demoportal.test_settings import PRODUCTION_ENV, manage

pytestmark = pytest.mark.django_db

SANDBOX_HOST = "test-sandbox.localhost"


def directives(response: HttpResponseBase) -> dict[str, list[str]]:
    """The Content-Security-Policy header as {directive: [sources]}."""
    policy = response.headers.get("Content-Security-Policy", "")
    parsed = {}
    for part in policy.split(";"):
        if part.strip():
            name, *sources = part.split()
            parsed[name] = sources
    return parsed


def assert_security_headers(response: HttpResponseBase) -> None:
    assert response.headers.get("X-Frame-Options") == "DENY"
    assert response.headers.get("X-Content-Type-Options") == "nosniff"
    assert response.headers.get("Referrer-Policy") == "same-origin"
    policy = directives(response)
    assert policy.get("frame-ancestors") == ["'none'"]
    assert policy.get("default-src") == ["'self'"]
    assert "'self'" in policy.get("script-src", [])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy.get("object-src") == ["'none'"]


def pooled(sandbox: Sandbox, settings: Any) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.POOLED)


def retired(sandbox: Sandbox, settings: Any) -> None:
    Sandbox.objects.filter(pk=sandbox.pk).update(status=Sandbox.Status.DESTROYED)


def busy(sandbox: Sandbox, settings: Any) -> None:
    settings.SANDBOX_REQUESTS_PER_MINUTE = 0


@pytest.mark.parametrize(
    ("host", "path", "prepare", "status"),
    [
        ("localhost", "/", None, 200),
        ("localhost", "/no-such-page/", None, 404),  # Django's 404 handler
        ("no-such-sandbox.localhost", "/", None, 404),  # the tenant middleware's host-not-found page
        ("evil.example", "/", None, 404),  # a host outside ALLOWED_HOSTS: the same page, short-circuited
        (SANDBOX_HOST, "/", pooled, 404),  # a pooled sandbox is nobody's yet
        (SANDBOX_HOST, "/", retired, 410),  # the "this demo has ended" page
        (SANDBOX_HOST, "/", busy, 429),  # the per-sandbox request limit
        ("localhost", "/healthz", None, 503),  # the health middleware (no worker heartbeat in this test)
        ("localhost", "/static/css/portal.css", None, 200),  # WhiteNoise
        ("localhost", "/api/v1/sandboxes", None, 401),  # the API's own error rendering
    ],
)
def test_every_response_carries_the_security_headers(
    client: Client,
    sandbox: Sandbox,
    settings: Any,
    test_redis: redis.Redis,
    host: str,
    path: str,
    prepare: Callable[[Sandbox, Any], None] | None,
    status: int,
) -> None:
    if prepare is not None:
        prepare(sandbox, settings)

    response = client.get(path, HTTP_HOST=host)

    assert response.status_code == status
    assert_security_headers(response)


def test_a_refused_csrf_check_carries_the_security_headers() -> None:
    response = Client(enforce_csrf_checks=True).post("/accounts/login/", {}, HTTP_HOST="localhost")

    assert response.status_code == 403
    assert_security_headers(response)


class ScriptTags(HTMLParser):
    """The attributes of each <script> tag of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))


def inline_scripts(html: str) -> list[dict[str, str | None]]:
    """The page's scripts that the browser would execute from the page itself (not data blocks)."""
    parser = ScriptTags()
    parser.feed(html)
    return [s for s in parser.scripts if "src" not in s and s.get("type") != "application/json"]


def assert_scripts_allowed(response: HttpResponseBase) -> None:
    """Every script the page runs is either a same-origin file or carries this response's nonce."""
    assert isinstance(response, HttpResponse)
    html = response.content.decode()
    script_src = directives(response)["script-src"]
    nonces = [source.removeprefix("'nonce-").removesuffix("'") for source in script_src if "nonce-" in source]
    for script in inline_scripts(html):
        assert script.get("nonce") in nonces, f"inline script without this response's nonce: {script}"
    for src in re.findall(r'<script[^>]* src="([^"]+)"', html):
        assert src.startswith("/static/") or src.startswith("/admin/"), f"script from elsewhere: {src}"
    assert not re.search(r"\son[a-z]+=", html), "an inline event handler needs 'unsafe-inline'"


@pytest.fixture
def prospect(client: Client, sandbox: Sandbox) -> User:
    """A verified prospect who owns the session sandbox (for this test's transaction), signed in."""
    from allauth.account.models import EmailAddress

    user = User.objects.create_user(email="csp@refinery.example", password="pw")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    Sandbox.objects.filter(pk=sandbox.pk).update(owner=user, product="thermalcommand")
    client.force_login(user)
    return user


@pytest.mark.parametrize(
    ("host", "path"),
    [
        ("localhost", "/demo/"),
        ("localhost", "/sandboxes/"),
        (SANDBOX_HOST, "/"),
        (SANDBOX_HOST, "/assets/H-101/"),
    ],
)
def test_a_prospects_pages_run_only_scripts_the_policy_allows(
    client: Client, prospect: User, test_redis: redis.Redis, host: str, path: str
) -> None:
    response = client.get(path, HTTP_HOST=host)

    assert response.status_code == 200
    assert_security_headers(response)
    assert_scripts_allowed(response)


@pytest.mark.parametrize(
    "path", ["/", "/accounts/signup/", "/accounts/login/", "/accounts/password/reset/", "/admin/login/"]
)
def test_public_pages_run_only_scripts_the_policy_allows(client: Client, path: str) -> None:
    response = client.get(path, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert_scripts_allowed(response)


@pytest.mark.parametrize(
    "path", ["/admin/", "/admin/sandboxes/sandbox/", "/admin/demoportal/user/", "/admin/demoportal/user/add/"]
)
def test_admin_pages_run_only_scripts_the_policy_allows(client: Client, path: str) -> None:
    client.force_login(User.objects.create_superuser(email="root@vendor.example", password="pw"))

    response = client.get(path, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert_security_headers(response)
    assert_scripts_allowed(response)


def test_the_api_docs_page_runs_no_inline_script_without_the_nonce(client: Client) -> None:
    """drf-spectacular's Swagger UI page (the split view, templates/api_docs.html) loads its start-up script
    as a file; any inline script it ever gains must carry the nonce."""
    response = client.get("/api/docs/", HTTP_HOST="localhost")

    script_src = directives(response)["script-src"]
    for script in inline_scripts(response.content.decode()):
        assert f"'nonce-{script.get('nonce')}'" in script_src


def test_a_template_that_uses_the_nonce_puts_a_fresh_one_in_each_response() -> None:
    page = Template('<script nonce="{{ CSP_NONCE }}">start()</script>')

    def respond() -> tuple[str, str]:
        request = RequestFactory().get("/", HTTP_HOST="localhost")
        middleware = CSPMiddleware(lambda request: HttpResponse(page.render(RequestContext(request))))
        response = middleware(request)
        assert isinstance(response, HttpResponse)
        return response.content.decode(), response.headers["Content-Security-Policy"]

    (first_page, first_policy), (second_page, second_policy) = respond(), respond()

    nonce = re.search(r'nonce="([^"]+)"', first_page)
    assert nonce is not None
    assert f"'nonce-{nonce[1]}'" in first_policy
    assert nonce[1] not in second_page
    assert nonce[1] not in second_policy


def test_websockets_to_the_same_host_are_allowed(client: Client) -> None:
    """'self' covers ws: and wss: on the page's own host (CSP Level 3), which is all /ws/live/ needs."""
    connect = directives(client.get("/", HTTP_HOST="localhost"))["connect-src"]

    assert connect == ["'self'"]


def test_under_production_settings_healthz_is_not_redirected_to_https_but_pages_are() -> None:
    """SecurityMiddleware now runs before the health check: a load balancer's plain-HTTP probe must still
    reach /healthz (SECURE_REDIRECT_EXEMPT)."""
    probe = (
        "from django.test import Client\n"
        "client = Client(HTTP_HOST='portal.example.com')\n"
        "print(client.get('/healthz').status_code, client.get('/').status_code)\n"
    )
    unreachable = {**PRODUCTION_ENV, "DATABASE_URL": "postgres://demo@127.0.0.1:1/demoportal"}
    result = manage("shell", "-c", probe, **unreachable)

    assert result.returncode == 0, result.stderr
    healthz, page = result.stdout.split()[-2:]
    assert (healthz, page) == ("503", "301")  # 503: no database here, but answered over HTTP
