"""Getting into a sandbox: its API token (stored hashed, shown once) and the one-time hand-off link.

The ``access_url`` is a signed, timestamped link to ``<slug>.<DEMO_DOMAIN>/enter/<token>``. Opening it
signs the owner in on the sandbox's own host (a host-only session) and redirects to the sandbox home.
Each link works once, within ``HANDOFF_MAX_AGE`` seconds. A link made for a colleague in the
sandbox's partner organisation (``member``) signs that colleague in, never the owner.
"""

from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.http import HttpRequest

from demoportal.models import User
from sandboxes.models import Sandbox

HANDOFF_SALT = "sandboxes.handoff"
HANDOFF_MAX_AGE = 15 * 60


def sandbox_host(*, slug: str) -> str:
    return f"{slug}.{settings.DEMO_DOMAIN}"


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def access_token_issue(*, sandbox: Sandbox) -> str:
    """A new API token for ``sandbox``; only its hash is stored, so the caller shows it once."""
    token = secrets.token_urlsafe(32)
    Sandbox.objects.filter(pk=sandbox.pk).update(access_token_hash=token_hash(token))
    sandbox.access_token_hash = token_hash(token)
    return token


def sandbox_for_token(token: str) -> Sandbox | None:
    sandbox: Sandbox | None = (
        Sandbox.objects.filter(kind=Sandbox.Kind.DEMO, access_token_hash=token_hash(token))
        .select_related("owner")
        .first()
    )
    return sandbox


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
