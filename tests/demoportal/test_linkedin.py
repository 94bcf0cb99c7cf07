"""Sign in with LinkedIn (allauth's OpenID Connect provider), only when LINKEDIN_CLIENT_ID and
LINKEDIN_CLIENT_SECRET are set; a newcomer from LinkedIn still gives the prospect's profile, with the name
LinkedIn gave prefilled, and may give the (optional) consent to be contacted.

LinkedIn itself is replaced by a local OpenID Connect server on 127.0.0.1 that publishes LinkedIn's
real endpoints in its discovery document and answers the token and userinfo calls allauth makes.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from allauth.account.models import EmailAddress
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from demoportal.core.models import Partner, User
from demoportal.settings.base import LINKEDIN_SERVER_URL, socialaccount_providers

pytestmark = pytest.mark.django_db

CLIENT_ID = "86linkedinclientid"
LOGIN = "/accounts/login/"
LINKEDIN_LOGIN = "/accounts/oidc/linkedin/login/"
# From LinkedIn's discovery document (https://www.linkedin.com/oauth/.well-known/openid-configuration).
LINKEDIN_AUTHORIZE = "https://www.linkedin.com/oauth/v2/authorization"


class FakeLinkedIn(BaseHTTPRequestHandler):
    """Discovery, token and userinfo endpoints, as LinkedIn answers them; ``profile`` is who signs in."""

    profile: dict[str, Any] = {}
    issuer = "https://www.linkedin.com/oauth"

    def do_GET(self) -> None:  # http.server's naming
        base = f"http://127.0.0.1:{self.server.server_port}"  # type: ignore[attr-defined]
        if self.path == "/oauth/.well-known/openid-configuration":
            self.reply(
                {
                    "issuer": self.issuer,
                    "authorization_endpoint": LINKEDIN_AUTHORIZE,
                    "token_endpoint": f"{base}/oauth/v2/accessToken",
                    "userinfo_endpoint": f"{base}/v2/userinfo",
                    "jwks_uri": f"{base}/oauth/openid/jwks",
                    "token_endpoint_auth_methods_supported": ["client_secret_post"],
                }
            )
        elif self.path == "/v2/userinfo":
            self.reply(self.profile)
        else:
            self.send_error(404)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path != "/oauth/v2/accessToken":
            self.send_error(404)
            return
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 3600, **self.profile}
        id_token = jwt.encode(claims, "linkedin-signs-id-tokens-with-a-key-of-its-own", algorithm="HS256")
        self.reply({"access_token": "at-123", "expires_in": 3600, "id_token": id_token, "token_type": "Bearer"})

    def reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def linkedin(settings: Any) -> Iterator[type[FakeLinkedIn]]:
    """LinkedIn configured as the settings would for the two variables, its server on 127.0.0.1."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeLinkedIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    providers = socialaccount_providers(linkedin_client_id=CLIENT_ID, linkedin_client_secret="s3cret")
    providers["openid_connect"]["APPS"][0]["settings"]["server_url"] = f"http://127.0.0.1:{server.server_port}/oauth"
    settings.SOCIALACCOUNT_PROVIDERS = providers
    FakeLinkedIn.profile = {
        "sub": "782bbtaQ",
        "name": "Lena Berg",
        "given_name": "Lena",
        "family_name": "Berg",
        "email": "lena.berg@acme-int.example",
        "email_verified": True,
    }
    yield FakeLinkedIn
    server.shutdown()
    server.server_close()


def test_the_settings_configure_linkedin_only_when_both_variables_are_set() -> None:
    assert socialaccount_providers(linkedin_client_id="", linkedin_client_secret="") == {}

    app = socialaccount_providers(linkedin_client_id=CLIENT_ID, linkedin_client_secret="s3cret")["openid_connect"][
        "APPS"
    ][0]
    assert (app["provider_id"], app["name"], app["client_id"], app["secret"]) == (
        "linkedin",
        "LinkedIn",
        CLIENT_ID,
        "s3cret",
    )
    assert app["settings"]["server_url"] == LINKEDIN_SERVER_URL == "https://www.linkedin.com/oauth"
    with pytest.raises(ImproperlyConfigured, match="LINKEDIN_CLIENT_SECRET is not set"):
        socialaccount_providers(linkedin_client_id=CLIENT_ID, linkedin_client_secret="")
    with pytest.raises(ImproperlyConfigured, match="LINKEDIN_CLIENT_ID is not set"):
        socialaccount_providers(linkedin_client_id="", linkedin_client_secret="s3cret")


def test_without_the_variables_there_is_no_linkedin_button_and_no_provider(client: Client) -> None:
    page = client.get(LOGIN, HTTP_HOST="localhost")

    assert page.status_code == 200
    assert b"LinkedIn" not in page.content
    assert client.post(LINKEDIN_LOGIN, HTTP_HOST="localhost").status_code == 404


def test_the_login_and_signup_pages_offer_linkedin_when_configured(client: Client, linkedin: Any) -> None:
    for path in (LOGIN, "/accounts/signup/"):
        page = client.get(path, HTTP_HOST="localhost").content.decode()
        assert "Sign in with LinkedIn" in page
        assert f'<form method="post" action="{LINKEDIN_LOGIN}' in page


def test_the_button_goes_to_linkedins_authorization_page_with_our_client_id(client: Client, linkedin: Any) -> None:
    response = client.post(LINKEDIN_LOGIN, HTTP_HOST="localhost")

    assert response.status_code == 302
    url = urlsplit(response["Location"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}{url.path}" == LINKEDIN_AUTHORIZE
    assert query["client_id"] == [CLIENT_ID]
    assert query["redirect_uri"] == ["http://localhost/accounts/oidc/linkedin/login/callback/"]
    assert set(query["scope"][0].split()) == {"openid", "profile", "email"}
    assert query["response_type"] == ["code"]


def linkedin_callback(client: Client) -> Any:
    """Sign in at LinkedIn (the fake accepts anyone) and come back to the portal's callback."""
    authorize = parse_qs(urlsplit(client.post(LINKEDIN_LOGIN, HTTP_HOST="localhost")["Location"]).query)
    return client.get(
        "/accounts/oidc/linkedin/login/callback/",
        {"code": "auth-code-1", "state": authorize["state"][0]},
        HTTP_HOST="localhost",
    )


PROFILE = {
    "first_name": "Lena",
    "last_name": "Berg",
    "email": "lena.berg@acme-int.example",
    "company": "Acme Integrators",
    "job_title": "Solutions architect",
    "role": "consultant",
    "country": "SE",
    "contact_consent": "on",
}


def test_a_newcomer_from_linkedin_gives_name_profile_and_consent_before_the_account_exists(
    client: Client, linkedin: Any
) -> None:
    acme = Partner.objects.create(name="Acme Integrators", slug="acme", email_domains=["acme-int.example"])

    back = linkedin_callback(client)
    assert back.status_code == 302
    assert back["Location"] == "/accounts/3rdparty/signup/"
    form_page = client.get(back["Location"], HTTP_HOST="localhost").content.decode()
    for field in ("company", "job_title", "role", "country", "contact_consent"):
        assert f'name="{field}"' in form_page
    assert 'value="lena.berg@acme-int.example"' in form_page
    assert "You are signing up with your LinkedIn account" in form_page
    assert "localhost" not in form_page.split("<main", 1)[1].split("</main>", 1)[0]  # no host name on the page
    # The name LinkedIn gave, prefilled and editable.
    assert re.search(r'<input type="text" name="first_name" value="Lena"[^>]* required id="id_first_name">', form_page)
    assert re.search(r'<input type="text" name="last_name" value="Berg"[^>]* required id="id_last_name">', form_page)
    assert not User.objects.filter(email="lena.berg@acme-int.example").exists()

    done = client.post("/accounts/3rdparty/signup/", PROFILE, HTTP_HOST="localhost")

    assert done.status_code == 302
    user = User.objects.get(email="lena.berg@acme-int.example")
    assert (user.company, user.role, str(user.country), user.display_name) == (
        "Acme Integrators",
        "consultant",
        "SE",
        "Lena Berg",
    )
    assert user.contact_consent_at is not None
    assert EmailAddress.objects.get(user=user).verified  # LinkedIn verified it: no confirmation mail
    assert user.partner == acme  # a verified address at the partner's domain enrols at once
    assert done["Location"] == "/demo/"  # verified by LinkedIn: straight on to demo selection
    assert client.get("/demo/", HTTP_HOST="localhost").status_code == 200  # signed in and verified


def test_a_linkedin_newcomer_may_correct_the_name_and_leave_the_consent_unticked(client: Client, linkedin: Any) -> None:
    linkedin_callback(client)
    data = {**PROFILE, "first_name": "Magdalena", "contact_consent": None}

    done = client.post(
        "/accounts/3rdparty/signup/", {k: v for k, v in data.items() if v is not None}, HTTP_HOST="localhost"
    )

    assert done.status_code == 302
    user = User.objects.get(email="lena.berg@acme-int.example")
    assert (user.first_name, user.last_name) == ("Magdalena", "Berg")
    assert (user.contact_consent_at, user.contact_consent_version) == (None, "")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"first_name": ""}, "first_name"),
        ({"last_name": ""}, "last_name"),
        ({"company": ""}, "company"),
        ({"role": "ceo"}, "role"),
    ],
)
def test_a_linkedin_newcomers_missing_profile_is_a_form_error_and_nothing_is_created(
    client: Client, linkedin: Any, changes: dict[str, str | None], field: str
) -> None:
    linkedin_callback(client)
    data = {key: value for key, value in {**PROFILE, **changes}.items() if value is not None}

    response = client.post("/accounts/3rdparty/signup/", data, HTTP_HOST="localhost")

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not User.objects.filter(email="lena.berg@acme-int.example").exists()
