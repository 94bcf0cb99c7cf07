"""Who is acting on which sandbox, and may they: the one place pages, APIs and sockets ask, and the ways in.

- ``host_sandbox(request)``: the sandbox whose own host a request came to (typed; django-tenants sets it).
- ``acting_on_host(request)``: who acts on that sandbox and how (``Acting``), or None if they may not see it.
  ``sandbox_member_required`` guards the host's pages with it, ``member_allowed`` the host's websockets,
  ``host_acting`` gives a guarded page its actor.
- ``acting_user`` and ``sandbox_for``: the API's caller, and a sandbox by id that the caller may act on.
- ``portal_url``: the way back from a sandbox's host to the portal.

Getting in: the sandbox's API token (stored hashed, shown once) and the one-time hand-off link.

The ``access_url`` is a signed, timestamped link to ``<slug>.<DEMO_DOMAIN>/enter/<token>``. Opening it
signs the owner in on the sandbox's own host (a host-only session) and redirects to the sandbox home.
Each link works once, within ``HANDOFF_MAX_AGE`` seconds. A link made for a colleague in the
sandbox's partner organisation (``member``) signs that colleague in, never the owner.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from rest_framework import exceptions
from rest_framework.request import Request

from demoportal.core.models import User
from sandboxes.authentication import sandboxes_reachable
from sandboxes.models import Sandbox
from sandboxes.selectors import sandbox_is_visible_to, sandbox_is_watched_by
from sandboxes.tokens import token_is_for
from sandboxes.usage import request_record

HANDOFF_SALT = "sandboxes.handoff"
HANDOFF_MAX_AGE = 15 * 60


@dataclass(frozen=True)
class Acting:
    """Someone signed in who may see ``sandbox``. ``watching``: staff on a prospect's sandbox they do not own,
    who read every page but change nothing and whose visits are not the prospect's engagement."""

    user: User
    sandbox: Sandbox
    watching: bool


def host_sandbox(request: HttpRequest) -> Sandbox:
    """The sandbox (or, on the portal, the public tenant) whose host ``request`` came to."""
    sandbox = getattr(request, "tenant", None)  # set by SandboxHostMiddleware before any view runs
    assert isinstance(sandbox, Sandbox), "SandboxHostMiddleware sets request.tenant"
    return sandbox


def acting_on_host(request: HttpRequest) -> Acting | None:
    """Who acts on this host's sandbox: its owner, a colleague in its partner organisation, or staff
    (``sandbox_is_visible_to``); None for anyone else, signed in or not."""
    sandbox, user = host_sandbox(request), request.user
    if not (isinstance(user, User) and member_may_see(sandbox=sandbox, user=user)):
        return None
    return Acting(user=user, sandbox=sandbox, watching=sandbox_is_watched_by(sandbox=sandbox, user=user))


def member_may_see(*, sandbox: Sandbox, user: Any) -> bool:
    """The one rule of pages and sockets alike: a signed-in user who may see the sandbox (``sandbox_is_visible_to``:
    its owner, a colleague in its partner organisation, or staff)."""
    return isinstance(user, User) and user.is_authenticated and sandbox_is_visible_to(sandbox=sandbox, user=user)


def member_allowed(*, sandbox: Sandbox, user: Any, token: str | None) -> bool:
    """A websocket's rule: the sandbox's own token, or ``member_may_see``."""
    if token:
        return token_is_for(token, sandbox)
    return member_may_see(sandbox=sandbox, user=user)


def sandbox_member_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of a sandbox's host, for whom ``acting_on_host`` admits. Someone not signed in on this host goes
    to the portal's sign-in, which leads to My sandboxes (its "Enter" signs them in here); anyone else gets
    404, as if no such sandbox.

    Staff watching a prospect's sandbox read every page but change nothing: ``request.sandbox_read_only``
    tells templates to leave out the controls, and any POST is a 403."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect(f"{portal_url(request)}accounts/login/?{urlencode({'next': '/sandboxes/'})}")
        acting = acting_on_host(request)
        if acting is None:
            raise Http404("No such sandbox.")
        request.sandbox_read_only = acting.watching  # type: ignore[attr-defined]  # read by templates
        if acting.watching and request.method not in ("GET", "HEAD", "OPTIONS"):
            raise PermissionDenied("You are watching this prospect's sandbox read-only.")
        return view(request, *args, **kwargs)

    return guarded


def host_acting(request: HttpRequest) -> Acting:
    """The actor of a page ``sandbox_member_required`` let through."""
    acting = acting_on_host(request)
    assert acting is not None, "only behind sandbox_member_required"
    return acting


def acting_user(request: Request) -> User:
    """The API's signed-in user (every endpoint requires one: DEFAULT_PERMISSION_CLASSES)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.PermissionDenied("Sign in first.")
    return user


def sandbox_for(request: Request, sandbox_id: int) -> Sandbox:
    """The demo sandbox ``sandbox_id`` if the API request may act on it (``sandboxes_reachable``: a token's
    own, or one the user may see); 404 otherwise (existence is not revealed). Counts the request."""
    sandbox: Sandbox | None = sandboxes_reachable(request).filter(pk=sandbox_id).first()
    if sandbox is None:
        raise exceptions.NotFound("No sandbox with this id.")
    request_record(sandbox=sandbox)
    return sandbox


def portal_url(request: HttpRequest) -> str:
    """The portal's address on the same scheme and port as this request."""
    _, colon, port = request.META.get("HTTP_HOST", "").rpartition(":")
    port_suffix = f":{port}" if colon and port.isdigit() else ""
    return f"{request.scheme}://{settings.PORTAL_HOST}{port_suffix}/"


def sandbox_host(*, slug: str) -> str:
    return f"{slug}.{settings.DEMO_DOMAIN}"


def sandbox_url(*, sandbox: Sandbox, request: HttpRequest | None = None) -> str:
    """The sandbox's home, on the scheme and port of ``request`` (https when there is none)."""
    scheme = request.scheme if request is not None else "https"
    port = request.get_port() if request is not None else ""
    suffix = f":{port}" if port not in ("", "80", "443") else ""
    return f"{scheme}://{sandbox_host(slug=sandbox.slug)}{suffix}/"


def access_url(
    *, sandbox: Sandbox, request: HttpRequest | None = None, staff: User | None = None, member: User | None = None
) -> str:
    """A one-time link that signs the owner (or ``staff``, or the partner colleague ``member``) in on the
    sandbox's host."""
    token = handoff_token(sandbox=sandbox, staff=staff, member=member)
    return f"{sandbox_url(sandbox=sandbox, request=request)}enter/{token}"


def handoff_token(*, sandbox: Sandbox, staff: User | None = None, member: User | None = None) -> str:
    """A one-time link into ``sandbox`` for its owner, for ``staff`` (the admin's "open as staff"), or for
    ``member``, a user of the sandbox's partner organisation who is not its owner."""
    data = {"sandbox": sandbox.pk, "nonce": secrets.token_hex(8)}
    if staff is not None:
        data["staff"] = staff.pk
    elif member is not None and member.pk != sandbox.owner_id:
        data["member"] = member.pk
    return signing.dumps(data, salt=HANDOFF_SALT)


def handoff_redeem(*, token: str, sandbox: Sandbox) -> User | None:
    """Whom a valid, fresh link to ``sandbox`` signs in (the owner, the staff member or the partner
    colleague it was made for), once; None if forged, late, for another sandbox, used, or for someone no
    longer staff or no longer in the sandbox's (active) partner."""
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if data.get("sandbox") != sandbox.pk:
        return None
    if "staff" in data:
        user = User.objects.filter(pk=data["staff"], is_staff=True, is_active=True).first()
    elif "member" in data:
        colleagues = User.objects.filter(partner_id=sandbox.partner_id, partner__is_active=True, is_active=True)
        user = colleagues.filter(pk=data["member"]).first() if sandbox.partner_id is not None else None
    else:
        user = sandbox.owner
    if user is None or not cache.add(f"handoff-used:{data['nonce']}", 1, HANDOFF_MAX_AGE):  # add: first one wins
        return None
    return user
