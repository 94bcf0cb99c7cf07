"""Getting into a sandbox: its API token (stored hashed, shown once) and the one-time hand-off link.

The ``access_url`` is a signed, timestamped link to ``<slug>.<DEMO_DOMAIN>/enter/<token>``. Opening it
signs the owner in on the sandbox's own host (a host-only session) and redirects to the sandbox home.
Each link works once, within ``HANDOFF_MAX_AGE`` seconds.
"""

from __future__ import annotations

import hashlib
import secrets

from django.core import signing
from django.core.cache import cache

from sandboxes.models import Sandbox

HANDOFF_SALT = "sandboxes.handoff"
HANDOFF_MAX_AGE = 15 * 60


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


def handoff_token(*, sandbox: Sandbox) -> str:
    return signing.dumps({"sandbox": sandbox.pk, "nonce": secrets.token_hex(8)}, salt=HANDOFF_SALT)


def handoff_redeem(*, token: str, sandbox: Sandbox) -> bool:
    """True once for a valid, fresh link to ``sandbox``; False if forged, late, for another sandbox or used."""
    try:
        data = signing.loads(token, salt=HANDOFF_SALT, max_age=HANDOFF_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return False
    if data.get("sandbox") != sandbox.pk:
        return False
    return bool(cache.add(f"handoff-used:{data['nonce']}", 1, HANDOFF_MAX_AGE))  # add: only the first caller wins
